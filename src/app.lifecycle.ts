import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from './config/config';
import { EntityRegistry } from './entities/entity-registry';
import { Journal } from './journal/journal';
import { Storage } from './journal/storage';
import { CacheNamesProjection } from './projections/cache-names.projection';
import { CACHE_NAMES_RUNNER, KEY_LISTING_RUNNER } from './projections/projections.module';
import { ProjectionRunner } from './projections/projection-runner';
import { Readiness } from './ops/readiness';

/** How long a clean shutdown waits for projections to apply the last events. */
const PROJECTION_DRAIN_MS = 10_000;

/**
 * Start: open the database, catch the projections up, recover every live cache (so that
 * expiries that fell due while down are journaled and quotas are exact), then serve.
 * Stop (after the HTTP server has closed): drain mailboxes, snapshot, close the database.
 */
@Injectable()
export class AppLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');

  constructor(
    private readonly storage: Storage,
    private readonly journal: Journal,
    private readonly registry: EntityRegistry,
    private readonly names: CacheNamesProjection,
    @Inject(KEY_LISTING_RUNNER) private readonly keyListing: ProjectionRunner,
    @Inject(CACHE_NAMES_RUNNER) private readonly cacheNames: ProjectionRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: Readiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      // Leave nothing open (a LevelDB lock would block the next attempt in this process).
      this.registry.halt();
      this.keyListing.stop();
      this.cacheNames.stop();
      await this.storage.close().catch(() => undefined);
      throw error;
    }
  }

  private async start(): Promise<void> {
    const started = Date.now();
    await this.storage.open();
    await this.journal.open();
    if (this.config.repair) await this.repair();
    // The newest records are checked on every start; recovery checks every record it replays.
    await this.journal.verifyTail();
    await Promise.all([this.keyListing.start(), this.cacheNames.start()]);
    const refs = [];
    for await (const ref of this.names.allLive()) refs.push(ref);
    const recovered = await this.registry.recoverAll(refs);
    this.readiness.markReady();
    this.logger.log(`recovered ${recovered} caches up to offset ${this.journal.highestOffset} in ${Date.now() - started} ms`);
  }

  /** `--repair`: finds the first damaged record and truncates the journal before it. */
  private async repair(): Promise<void> {
    const bad = await this.journal.findFirstCorrupt();
    if (bad === undefined) {
      this.logger.log('repair: the journal is intact, nothing to do');
      return;
    }
    const removed = await this.journal.truncateFrom(bad);
    this.logger.warn(`repair: truncated the journal at global offset ${bad}: ${removed} event(s) removed; projections will be rebuilt`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.registry.stopAll();
    for (const runner of [this.keyListing, this.cacheNames]) {
      if (!(await runner.reached(this.journal.highestOffset, PROJECTION_DRAIN_MS))) {
        this.logger.warn(`projection ${runner.projection.name} is behind at shutdown; it catches up from its stored offset on the next start`);
      }
    }
    this.keyListing.stop();
    this.cacheNames.stop();
    await this.storage.close();
    this.logger.log('journal flushed, snapshots written, database closed');
  }
}
