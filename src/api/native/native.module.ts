import { Module } from '@nestjs/common';
import { BatchController } from './batch.controller';
import { CacheNameController } from './cache-name.controller';
import { CacheController } from './cache.controller';
import { NativeFastRoutes } from './fast-routes';
import { OrgMetricsController } from './org-metrics.controller';
import { CacheSettingsController } from './settings.controller';

/** The native (Akka-Cache) REST API. Static routes are registered before `/:cacheName/:key`. */
@Module({
  controllers: [CacheNameController, CacheSettingsController, BatchController, OrgMetricsController, CacheController],
  providers: [NativeFastRoutes],
})
export class NativeApiModule {}
