import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../config/clock';
import { Journal } from '../journal/journal';
import { Metrics } from '../ops/metrics';
import { EntityRegistry } from './entity-registry';
import { ExpiryScheduler } from './expiry-scheduler';
import { CacheNamesProjection } from '../projections/cache-names.projection';
import { ProjectionRunner } from '../projections/projection-runner';
import { CACHE_NAMES_RUNNER } from '../projections/projections.module';
import { OrgCaches } from './org-caches';
import { OrgQuota } from './org-quota';

@Global()
@Module({
  providers: [
    OrgQuota,
    {
      provide: OrgCaches,
      // An org's live caches, counted from the cache-name read model once it has every committed event.
      useFactory: (journal: Journal, config: AppConfig, names: CacheNamesProjection, namesRunner: ProjectionRunner) =>
        new OrgCaches(async (org) => {
          await namesRunner.waitFor(journal.highestOffset);
          return (await names.list(org)).length;
        }, config.maxCachesPerOrg),
      inject: [Journal, APP_CONFIG, CacheNamesProjection, CACHE_NAMES_RUNNER],
    },
    {
      provide: EntityRegistry,
      useFactory: (journal: Journal, clock: Clock, quota: OrgQuota, config: AppConfig, caches: OrgCaches, metrics: Metrics) => {
        const now = () => clock.now();
        let registry: EntityRegistry | undefined;
        const scheduler = new ExpiryScheduler(now, (ref, key) => {
          void registry?.ask(ref, { type: 'ExpireKey', key, by: 'system' });
        });
        registry = new EntityRegistry({ journal, scheduler, quota, caches, now, snapshotEvery: config.snapshotEvery, observer: metrics.entityObserver }, { idleMs: config.entityIdleMs });
        return registry;
      },
      inject: [Journal, Clock, OrgQuota, APP_CONFIG, OrgCaches, Metrics],
    },
  ],
  exports: [EntityRegistry, OrgQuota, OrgCaches],
})
export class EntitiesModule {}
