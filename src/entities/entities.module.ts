import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../config/clock';
import { Journal } from '../journal/journal';
import { Metrics } from '../ops/metrics';
import { EntityRegistry } from './entity-registry';
import { ExpiryScheduler } from './expiry-scheduler';
import { OrgQuota } from './org-quota';

@Global()
@Module({
  providers: [
    OrgQuota,
    {
      provide: EntityRegistry,
      useFactory: (journal: Journal, clock: Clock, quota: OrgQuota, config: AppConfig, metrics: Metrics) => {
        const now = () => clock.now();
        let registry: EntityRegistry | undefined;
        const scheduler = new ExpiryScheduler(now, (ref, key) => {
          void registry?.ask(ref, { type: 'ExpireKey', key, by: 'system' });
        });
        registry = new EntityRegistry({ journal, scheduler, quota, now, snapshotEvery: config.snapshotEvery, observer: metrics.entityObserver }, { idleMs: config.entityIdleMs });
        return registry;
      },
      inject: [Journal, Clock, OrgQuota, APP_CONFIG, Metrics],
    },
  ],
  exports: [EntityRegistry, OrgQuota],
})
export class EntitiesModule {}
