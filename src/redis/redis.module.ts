import { Module } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { RateLimiter } from '../auth/rate-limiter';
import { APP_CONFIG } from '../config/settings';
import type { ServerConfig } from '../config/server';
import type { LimitsConfig } from '../config/limits';
import type { EdgeConfig } from '../config/edge';
import { CacheGateway } from '../core/cache-gateway';
import { Journal } from '../journal/journal';
import { CommittedEventFeed } from './engine/keyspace-notifications';
import { EngineHistory } from './engine/command';
import { CacheHistory } from '../core/cache-history';
import { CacheHistoryModule } from '../core/history.module';
import { parsePoint } from '../core/point';
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
  imports: [CacheHistoryModule],
  providers: [
    RespCounters,
    {
      provide: RedisEngine,
      useFactory: (config: ServerConfig & LimitsConfig & EdgeConfig, gateway: CacheGateway, auth: AuthService, limiter: RateLimiter, counters: RespCounters, journal: Journal, cacheHistory: CacheHistory) => {
        const startedAt = gateway.now();
        const facts: ServerFacts = {
          version: VERSION,
          get port() {
            return counters.port ?? 0;
          },
          tls: config.tls !== undefined,
          startedAt,
          maxValueBytes: config.maxValueBytes,
          maxResponseBytes: config.edge.maxResponseBytes,
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
        // The history commands read the event log through the core's history, as the HTTP history API does.
        const isoOf = (time: number) => new Date(time).toISOString();
        const history: EngineHistory = {
          valueAt: (ctx, cacheName, key, point) => cacheHistory.valueAt(ctx.principal, cacheName, key, parsePoint(point)),
          events: async (ctx, cacheName, from, limit) => {
            const page = await cacheHistory.page({ org: ctx.principal.org, name: cacheName }, from, limit);
            return {
              next: page.next,
              hasMore: page.hasMore,
              events: page.records.map(({ seq, event }) => ({
                seq,
                type: event.type,
                time: isoOf(event.at),
                by: event.by,
                device: event.device,
                key: 'key' in event ? event.key : undefined,
                value: 'value' in event ? event.value : undefined,
                expiresAt: 'expiresAt' in event ? (event.expiresAt === 0 ? null : isoOf(event.expiresAt)) : undefined,
              })),
            };
          },
        };
        return new RedisEngine(gateway, auth, limiter, facts, feed, history);
      },
      inject: [APP_CONFIG, CacheGateway, AuthService, RateLimiter, RespCounters, Journal, CacheHistory],
    },
    RespServer,
  ],
  exports: [RedisEngine, RespServer],
})
export class RedisModule {}
