import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../config/clock';
import { EntityRegistry } from '../entities/entity-registry';
import { OrgCaches } from '../entities/org-caches';
import { InlineReadModels } from '../journal/inline-read-models';
import { Admission } from './admission';
import { CacheGateway } from './cache-gateway';

/** The transport-free core: the gateway every API family and the Redis engine use. */
@Global()
@Module({
  providers: [
    {
      provide: Admission,
      useFactory: (config: AppConfig) =>
        new Admission({ maxValueBytes: config.maxValueBytes, quotaByLevel: config.orgQuotaEnabled ? config.serviceLevelMaxBytes : undefined }),
      inject: [APP_CONFIG],
    },
    {
      provide: CacheGateway,
      useFactory: (registry: EntityRegistry, clock: Clock, readModels: InlineReadModels, orgCaches: OrgCaches, admission: Admission) =>
        new CacheGateway(registry, clock, readModels, orgCaches, admission),
      inject: [EntityRegistry, Clock, InlineReadModels, OrgCaches, Admission],
    },
  ],
  exports: [CacheGateway, Admission],
})
export class CoreModule {}
