import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../config/clock';
import { InlineReadModels } from '../journal/inline-read-models';
import { Journal } from '../journal/journal';
import { SnapshotStore } from '../journal/snapshot-store';
import { EntityRegistry } from './entity-registry';
import { ExpiryScheduler } from './expiry-scheduler';
import { ExpirySweeper } from './expiry-sweeper';
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
      provide: EntityRegistry,
      useFactory: (journal: Journal, snapshots: SnapshotStore, clock: Clock, quota: OrgQuota, config: AppConfig) => {
        const now = () => clock.now();
        let registry: EntityRegistry | undefined;
        const scheduler = new ExpiryScheduler(now, (ref, key) => {
          void registry?.ask(ref, { type: 'ExpireKey', key, by: 'system' });
        });
        registry = new EntityRegistry({ journal, snapshots, scheduler, quota, now, snapshotEvery: config.snapshotEvery }, { idleMs: config.entityIdleMs });
        return registry;
      },
      inject: [Journal, SnapshotStore, Clock, OrgQuota, APP_CONFIG],
    },
  ],
  exports: [EntityRegistry, OrgQuota, ExpirySweeper],
})
export class EntitiesModule {}
