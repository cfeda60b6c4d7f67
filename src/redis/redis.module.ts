import { Module } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { RateLimiter } from '../auth/rate-limiter';
import { APP_CONFIG, AppConfig } from '../config/config';
import { CacheGateway } from '../core/cache-gateway';
import { RedisEngine } from './engine/engine';
import { ServerFacts } from './engine/command';
import { RespCounters } from './resp/resp-counters';
import { RespServer } from './resp/resp-server';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

/**
 * The Redis protocol: the transport-free command engine (shared with the Upstash-style HTTP
 * family) and the RESP listener over it.
 */
@Module({
  providers: [
    RespCounters,
    {
      provide: RedisEngine,
      useFactory: (config: AppConfig, gateway: CacheGateway, auth: AuthService, limiter: RateLimiter, counters: RespCounters) => {
        const startedAt = gateway.now();
        const facts: ServerFacts = {
          version: VERSION,
          get port() {
            return counters.port ?? 0;
          },
          tls: config.tls !== undefined,
          startedAt,
          maxValueBytes: config.maxValueBytes,
          stats: () => ({
            connections: counters.openConnections,
            totalConnections: counters.totalConnections,
            rejectedConnections: counters.rejectedConnections,
            commands: counters.commands,
            inputBytes: counters.inputBytes,
            outputBytes: counters.outputBytes,
          }),
        };
        return new RedisEngine(gateway, auth, limiter, facts);
      },
      inject: [APP_CONFIG, CacheGateway, AuthService, RateLimiter, RespCounters],
    },
    RespServer,
  ],
  exports: [RedisEngine, RespServer],
})
export class RedisModule {}
