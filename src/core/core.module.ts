import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { JournalConfig } from '../config/journal';
import type { LimitsConfig } from '../config/limits';
import { Clock } from '../config/clock';
import { EntityRegistry } from '../entities/entity-registry';
import { OrgCaches } from '../entities/org-caches';
import { InlineReadModels } from '../journal/inline-read-models';
import { Admission } from './admission';
import { CacheGateway } from './cache-gateway';
import { CommandRouter } from './command-router';
import { DiskBudget, DiskBudgetLimits } from './disk-budget';
import { Metrics } from '../ops/metrics';

const MiB = 1024 * 1024;

/** ORG_DISK_BUDGET_BYTES, or (with the byte quota) room for the quota and the history auto-compaction leaves; DISK_BUDGET_BYTES. */
export function diskBudgetLimits(config: LimitsConfig & Pick<JournalConfig, 'historyCompactFactor'>): DiskBudgetLimits {
  const factor = config.historyCompactFactor;
  const byLevel = config.orgQuotaEnabled
    ? Object.fromEntries(Object.entries(config.serviceLevelMaxBytes).map(([level, bytes]) => [level, (factor + 2) * bytes + 64 * MiB]))
    : undefined;
  return {
    orgBytes: config.orgDiskBudgetBytes || undefined,
    orgBytesByLevel: byLevel,
    totalBytes: config.diskBudgetBytes || undefined,
  };
}

/** The transport-free core: the gateway every API family and the Redis engine use. */
@Global()
@Module({
  providers: [
    {
      provide: Admission,
      useFactory: (config: LimitsConfig & Pick<JournalConfig, 'historyCompactFactor'>) =>
        new Admission({ maxValueBytes: config.maxValueBytes, quotaByLevel: config.orgQuotaEnabled ? config.serviceLevelMaxBytes : undefined }),
      inject: [APP_CONFIG],
    },
    {
      provide: DiskBudget,
      useFactory: (readModels: InlineReadModels, config: LimitsConfig & Pick<JournalConfig, 'historyCompactFactor'>) => new DiskBudget(readModels, diskBudgetLimits(config)),
      inject: [InlineReadModels, APP_CONFIG],
    },
    {
      provide: CacheGateway,
      useFactory: (registry: EntityRegistry, clock: Clock, readModels: InlineReadModels, orgCaches: OrgCaches, admission: Admission, disk: DiskBudget, metrics?: Metrics, router?: CommandRouter | null) =>
        new CacheGateway(registry, clock, readModels, orgCaches, admission, disk.enabled ? disk : undefined, metrics?.orgs, router ?? undefined),
      // The router is the cluster module's (src/cluster/), with JOURNAL=nats and NATS_OWNERSHIP on.
      inject: [EntityRegistry, Clock, InlineReadModels, OrgCaches, Admission, DiskBudget, { token: Metrics, optional: true }, { token: CommandRouter, optional: true }],
    },
  ],
  exports: [CacheGateway, Admission, DiskBudget],
})
export class CoreModule {}
