import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';
import { JournalBackend } from '../journal/journal-backend';
import { LevelDbBackend } from '../journal/leveldb/leveldb-backend';
import { DiskBudget } from '../core/disk-budget';
import { Readiness } from './readiness';
import { Public } from '../auth/public.decorator';

/**
 * `/health/live`: the process answers (restart it if not). `/health/ready`: it should get
 * traffic — the database is open and start-up is done, and it is not shutting down.
 * No authentication: orchestrators and load balancers call these.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
    private readonly backend: JournalBackend,
    private readonly disk: DiskBudget,
  ) {}

  @Public()
  @Get('live')
  @HealthCheck()
  live(@Res() reply: FastifyReply): Promise<void> {
    return this.answer(reply, () => this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]));
  }

  @Public()
  @Get('ready')
  @HealthCheck()
  ready(@Res() reply: FastifyReply): Promise<void> {
    return this.answer(reply, () =>
      this.health.check([
        () => {
          const database = this.indicators.check('database');
          if (!(this.backend instanceof LevelDbBackend)) return database.up({ backend: this.backend.name });
          const storage = this.backend.storage;
          // Not ready while the storage healer reopens the database after a fault: writes fail fast then.
          if (storage.healer.healing) return database.down({ backend: this.backend.name, state: 'healing' });
          return storage.db.status === 'open' ? database.up({ backend: this.backend.name }) : database.down({ backend: this.backend.name, state: storage.db.status });
        },
        () => {
          // A spent service-wide disk budget refuses writes (4xx, deletions pass) but not reads:
          // still ready, and the answer says which budget is spent.
          const disk = this.indicators.check('disk');
          const spent = this.disk.totalSpent();
          return disk.up(spent === undefined ? { spent: null } : { spent: 'DISK_BUDGET_BYTES', journalBytes: spent.used, budget: spent.budget });
        },
        () => {
          const lifecycle = this.indicators.check('lifecycle');
          const state = this.readiness.state;
          return state === 'ready' ? lifecycle.up({ state }) : lifecycle.down({ state });
        },
      ]),
    );
  }

  /** Terminus' own body in both cases; a 503 also carries the stable `code` every error here has. */
  private async answer(reply: FastifyReply, check: () => Promise<HealthCheckResult>): Promise<void> {
    try {
      await reply.header('cache-control', 'no-store').send(await check());
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const body = error.getResponse() as Record<string, unknown>;
      await reply.status(503).header('cache-control', 'no-store').send({ code: 'NOT_READY', message: 'the service is not ready', ...body });
    }
  }
}
