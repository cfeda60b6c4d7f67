import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from './config/config';
import { EntityRegistry } from './entities/entity-registry';
import { JournalBackend } from './journal/journal-backend';
import { CacheNamesProjection } from './projections/cache-names.projection';
import { CACHE_NAMES_RUNNER, KEY_LISTING_RUNNER } from './projections/projections.module';
import { ProjectionRunner } from './projections/projection-runner';
import { TaskRunner } from './tasks/task-runner';

/** How long a clean shutdown waits for projections to apply the last events. */
const PROJECTION_DRAIN_MS = 10_000;

/**
 * The one owner of start-up and shutdown; no other module opens or closes the journal.
 * Start: open the backend, check (and with REPAIR, repair) its log, catch the projections
 * up, recover every live cache (so that expiries that fell due while down are journaled and
 * quotas are exact), resume tasks; then the HTTP server listens.
 * Stop (after the HTTP server has closed), in reverse: let running tasks finish, drain
 * mailboxes and snapshot, let projections apply the last events, close the backend.
 */
@Injectable()
export class AppLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');

  constructor(
    private readonly backend: JournalBackend,
    private readonly registry: EntityRegistry,
    private readonly names: CacheNamesProjection,
    private readonly tasks: TaskRunner,
    @Inject(KEY_LISTING_RUNNER) private readonly keyListing: ProjectionRunner,
    @Inject(CACHE_NAMES_RUNNER) private readonly cacheNames: ProjectionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get runners(): ProjectionRunner[] {
    return [this.keyListing, this.cacheNames];
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      // Leave nothing open (a LevelDB lock would block the next attempt in this process).
      this.registry.halt();
      for (const runner of this.runners) runner.stop();
      await this.backend.close().catch(() => undefined);
      throw error;
    }
  }

  private async start(): Promise<void> {
    const started = Date.now();
    await this.backend.open();
    await this.backend.check({ repair: this.config.repair === true });
    await Promise.all(this.runners.map((runner) => runner.start()));
    const refs = [];
    for await (const ref of this.names.allLive()) refs.push(ref);
    const recovered = await this.registry.recoverAll(refs);
    await this.tasks.start();
    this.logger.log(`recovered ${recovered} caches up to offset ${this.backend.journal.highestOffset} in ${Date.now() - started} ms (${this.backend.name} journal)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tasks.stop();
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
