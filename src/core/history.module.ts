import { Module } from '@nestjs/common';
import { Clock } from '../config/clock';
import type { HistoryConfig } from '../config/history';
import { APP_CONFIG } from '../config/settings';
import { EntityRegistry } from '../entities/entity-registry';
import { Journal } from '../journal/journal';
import { SnapshotStore } from '../journal/snapshot-store';
import { CacheHistory } from './cache-history';

/** The caches' history for every API family and the Redis engine (one bound on point-in-time reads per org for all of them). */
@Module({
  providers: [
    {
      provide: CacheHistory,
      useFactory: (registry: EntityRegistry, journal: Journal, snapshots: SnapshotStore, clock: Clock, config: HistoryConfig) => new CacheHistory(registry, journal, snapshots, clock, config.edge),
      inject: [EntityRegistry, Journal, SnapshotStore, Clock, APP_CONFIG],
    },
  ],
  exports: [CacheHistory],
})
export class CacheHistoryModule {}
