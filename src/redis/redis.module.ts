import { Module } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { RateLimiter } from '../auth/rate-limiter';
import { APP_CONFIG, AppConfig } from '../config/config';
import { CacheGateway } from '../core/cache-gateway';
import { Journal } from '../journal/journal';
import { CommittedEventFeed } from './engine/keyspace-notifications';
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
      useFactory: (config: AppConfig, gateway: CacheGateway, auth: AuthService, limiter: RateLimiter, counters: RespCounters, journal: Journal) => {
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
        // Keyspace notifications follow the journal's live commit stream, from now on.
        const feed: CommittedEventFeed = (listener) => {
          const subscription = journal.follow(journal.highestOffset).subscribe({ next: (envelopes) => listener(envelopes), error: () => undefined });
          return () => subscription.unsubscribe();
        };
        return new RedisEngine(gateway, auth, limiter, facts, feed);
      },
      inject: [APP_CONFIG, CacheGateway, AuthService, RateLimiter, RespCounters, Journal],
    },
    RespServer,
  ],
  exports: [RedisEngine, RespServer],
})
export class RedisModule {}
