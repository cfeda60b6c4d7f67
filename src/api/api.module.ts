import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CacheService } from './cache.service';
import { RouteCatalog } from './contract/route-catalog';
import { DocsRoutes } from './openapi/docs.routes';
import { HttpEdge } from './edge/http-edge';
import { HttpErrorFilter } from './errors/http-error.filter';
import { HistoryModule } from './history/history.module';
import { MethodNotAllowed } from './method-not-allowed';
import { IronCacheApiModule } from './ironcache/ironcache.module';
import { MomentoApiModule } from './momento/momento.module';
import { NativeApiModule } from './native/native.module';
import { TasksApiModule } from './tasks/tasks-api.module';
import { UpstashApiModule } from './upstash/upstash.module';

@Global()
@Module({
  imports: [TasksApiModule, NativeApiModule, IronCacheApiModule, MomentoApiModule, UpstashApiModule, HistoryModule],
  providers: [CacheService, HttpEdge, RouteCatalog, DocsRoutes, MethodNotAllowed, { provide: APP_FILTER, useClass: HttpErrorFilter }],
  exports: [CacheService, HttpEdge, RouteCatalog],
})
export class ApiModule {}
