import { Module } from '@nestjs/common';
import { RedisModule } from '../../redis/redis.module';
import { UpstashRoutes } from './upstash.routes';

/** The Upstash-compatible Redis REST API, under `/redis`, over the Redis command engine. Its routes are registered by the app factory, on Fastify. */
@Module({
  imports: [RedisModule],
  providers: [UpstashRoutes],
  exports: [UpstashRoutes],
})
export class UpstashApiModule {}
