import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../config/clock';
import { Journal } from '../journal/journal';
import { SnapshotStore } from '../journal/snapshot-store';
import { EntityRegistry } from './entity-registry';
import { ExpiryScheduler } from './expiry-scheduler';
import { OrgQuota } from './org-quota';

@Global()
@Module({
  providers: [
    OrgQuota,
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
  exports: [EntityRegistry, OrgQuota],
})
export class EntitiesModule {}
