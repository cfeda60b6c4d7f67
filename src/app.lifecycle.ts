import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import { ClusterNode } from './cluster/cluster-node';
import { APP_CONFIG } from './config/settings';
import type { JournalConfig } from './config/journal';
import { CacheGateway } from './core/cache-gateway';
import { AutoCompactor } from './entities/auto-compactor';
import { EntityRegistry } from './entities/entity-registry';
import { ExpirySweeper } from './entities/expiry-sweeper';
import { JournalBackend } from './journal/journal-backend';
import { ProjectionRunners } from './projections/projections.module';
import { Readiness } from './ops/readiness';
import { ProjectionRunner } from './projections/projection-runner';
import { TaskRunner } from './tasks/task-runner';

/** How long a clean shutdown waits for projections to apply the last events. */
const PROJECTION_DRAIN_MS = 10_000;

/**
 * The one owner of start-up and shutdown; no other module opens or closes the journal.
 * Start: open the backend, check (and with REPAIR, repair) its log, catch the projections
 * up, start sweeping due expiries from the expiry index, resume tasks; then the HTTP server
 * listens. No cache is recovered here: each recovers on its first use, so start-up does not
 * grow with the data.
 * On a shared journal with ownership (src/cluster/), the node joins the members last, once it
 * can run what other nodes forward to it.
 * Stop: first leave the members (before the listeners close: commands arriving meanwhile are
 * forwarded to the caches' new owners, and those already forwarded here still run). Then, after
 * the HTTP server has closed, in reverse: answer the last forwarded commands, let running tasks
 * finish, stop the sweeper, drain mailboxes and snapshot, let projections apply the last events,
 * close the backend.
 */
@Injectable()
export class AppLifecycle implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');

  constructor(
    private readonly backend: JournalBackend,
    private readonly registry: EntityRegistry,
    private readonly expiries: ExpirySweeper,
    private readonly tasks: TaskRunner,
    private readonly projections: ProjectionRunners,
    @Inject(APP_CONFIG) private readonly config: JournalConfig,
    private readonly readiness: Readiness,
    private readonly compactor: AutoCompactor,
    private readonly gateway: CacheGateway,
    /** Null without JOURNAL=nats or with NATS_OWNERSHIP=false. */
    @Inject(ClusterNode) private readonly cluster: ClusterNode | null,
  ) {}

  private get runners(): readonly ProjectionRunner[] {
    return this.projections.all;
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      // Leave nothing open (a LevelDB lock would block the next attempt in this process).
      this.registry.halt();
      await this.cluster?.close().catch(() => undefined);
      void this.expiries.stop();
      for (const runner of this.runners) runner.stop();
      await this.backend.close().catch(() => undefined);
      throw error;
    }
  }

  private async start(): Promise<void> {
    const started = Date.now();
    await this.backend.open();
    this.registry.followShared();
    await this.backend.check({ repair: this.config.repair });
    await Promise.all(this.runners.map((runner) => runner.start()));
    // No cache is loaded here: each recovers on its first use. What needs every cache (org
    // byte totals, due expiries) is in the journal's inline read models.
    this.expiries.start();
    this.compactor.start();
    await this.tasks.start();
    await this.cluster?.start((ref, command, quotaLimit) => this.gateway.askHere(ref, command, quotaLimit));
    this.readiness.markReady();
    this.logger.log(`journal open at offset ${this.backend.journal.highestOffset} in ${Date.now() - started} ms (${this.backend.name}); caches recover on first use`);
  }

  /** Shutdown's first step (SIGTERM): hand this node's caches over. */
  async onModuleDestroy(): Promise<void> {
    await this.cluster?.leave();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cluster?.close();
    await this.tasks.stop();
    await this.compactor.stop();
    await this.expiries.stop();
    await this.registry.stopAll();
    for (const runner of this.runners) {
      if (!(await runner.reached(this.backend.journal.highestOffset, PROJECTION_DRAIN_MS))) {
        this.logger.warn(`projection ${runner.projection.name} is behind at shutdown; it catches up from its stored offset on the next start`);
      }
    }
    for (const runner of this.runners) runner.stop();
    await this.backend.close();
    this.logger.log('journal flushed, snapshots written, database closed');
  }
}
