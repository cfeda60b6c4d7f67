import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { JournalConfig } from '../config/journal';
import type { LimitsConfig } from '../config/limits';
import { Clock } from '../config/clock';
import { InlineReadModels } from '../journal/inline-read-models';
import { Journal } from '../journal/journal';
import { SnapshotStore } from '../journal/snapshot-store';
import { Metrics } from '../ops/metrics';
import { AutoCompactor } from './auto-compactor';
import { EntityRegistry } from './entity-registry';
import { ExpiryScheduler } from './expiry-scheduler';
import { ExpirySweeper } from './expiry-sweeper';
import { OrgCaches } from './org-caches';
import { OrgQuota } from './org-quota';

@Global()
@Module({
  providers: [
    { provide: OrgQuota, useFactory: (readModels: InlineReadModels) => new OrgQuota(readModels), inject: [InlineReadModels] },
    {
      provide: ExpirySweeper,
      useFactory: (readModels: InlineReadModels, registry: EntityRegistry, clock: Clock) => new ExpirySweeper(readModels, registry, () => clock.now()),
      inject: [InlineReadModels, EntityRegistry, Clock],
    },
    {
      provide: OrgCaches,
      // An org's live caches, counted from the journal's cache names (exact once a write is acknowledged).
      useFactory: (readModels: InlineReadModels, config: JournalConfig & LimitsConfig) => new OrgCaches(async (org) => (await readModels.listCaches(org)).length, config.maxCachesPerOrg),
      inject: [InlineReadModels, APP_CONFIG],
    },
    {
      provide: EntityRegistry,
      useFactory: (journal: Journal, snapshots: SnapshotStore, clock: Clock, quota: OrgQuota, config: JournalConfig & LimitsConfig, caches: OrgCaches, metrics: Metrics, readModels: InlineReadModels) => {
        const now = () => clock.now();
        let registry: EntityRegistry | undefined;
        const scheduler = new ExpiryScheduler(now, (ref, key) => {
          void registry?.ask(ref, { type: 'ExpireKey', key, by: 'system' });
        });
        registry = new EntityRegistry(
          {
            journal,
            snapshots,
            scheduler,
            quota,
            caches,
            now,
            snapshotEvery: config.snapshotEvery,
            snapshotBytes: config.snapshotBytes,
            maxEventsPerCommand: config.edge.maxEventsPerCommand,
            observer: metrics.entityObserver,
            contentionMs: config.nats?.timeoutMs,
          },
          { idleMs: config.entityIdleMs, readWaitMs: config.nats?.readWaitMs, readModels, maxEntitiesPerOrg: config.maxEntitiesPerOrg },
        );
        return registry;
      },
      inject: [Journal, SnapshotStore, Clock, OrgQuota, APP_CONFIG, OrgCaches, Metrics, InlineReadModels],
    },
    {
      provide: AutoCompactor,
      useFactory: (journal: Journal, snapshots: SnapshotStore, registry: EntityRegistry, readModels: InlineReadModels, config: JournalConfig & LimitsConfig, clock: Clock) =>
        new AutoCompactor(journal, snapshots, registry, readModels, { factor: config.historyCompactFactor, minBytes: config.historyCompactMinBytes, now: () => clock.now() }),
      inject: [Journal, SnapshotStore, EntityRegistry, InlineReadModels, APP_CONFIG, Clock],
    },
  ],
  exports: [EntityRegistry, OrgQuota, OrgCaches, ExpirySweeper, AutoCompactor],
})
export class EntitiesModule {}
