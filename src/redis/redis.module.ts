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
import { HistoryService } from '../api/history/history.service';
import { HistoryModule } from '../api/history/history.module';
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
  imports: [HistoryModule],
  providers: [
    RespCounters,
    {
      provide: RedisEngine,
      useFactory: (config: ServerConfig & LimitsConfig & EdgeConfig, gateway: CacheGateway, auth: AuthService, limiter: RateLimiter, counters: RespCounters, journal: Journal, historyService: HistoryService) => {
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
        // The history commands read the event log through the history API's service (the core has no history port yet).
        const history: EngineHistory = {
          valueAt: (ctx, cacheName, key, point) => historyService.valueAt(ctx.principal, cacheName, key, point),
          events: async (ctx, cacheName, from, limit) => {
            const page = await historyService.page({ org: ctx.principal.org, name: cacheName }, from, limit);
            return {
              next: page.next,
              hasMore: page.hasMore,
              events: page.events.map((e) => ({
                seq: e.seq,
                type: e.type,
                time: e.time,
                by: e.by,
                device: e.device,
                key: e.key,
                value: e.value === undefined ? undefined : Buffer.from(e.value, 'base64'),
                expiresAt: e.expiresAt,
              })),
            };
          },
        };
        return new RedisEngine(gateway, auth, limiter, facts, feed, history);
      },
      inject: [APP_CONFIG, CacheGateway, AuthService, RateLimiter, RespCounters, Journal, HistoryService],
    },
    RespServer,
  ],
  exports: [RedisEngine, RespServer],
})
export class RedisModule {}
