import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { Subscription } from 'rxjs';
import { Principal, principalKey } from '../../auth/principal';
import { APP_CONFIG } from '../../config/settings';
import type { HistoryConfig } from '../../config/history';
import type { EdgeConfig } from '../../config/edge';
import { subscribeContained } from '../../journal/contained-subscriber';
import { Envelope, Journal } from '../../journal/journal';
import { EntityRef, encodeEntityId } from '../../journal/keys';
import { StorageUnavailableError, storageFaultOf } from '../../journal/storage-fault';
import { ApiError } from '../errors/api-error';
import { HistoryService, toWireEvent } from './history.service';
import { wireEventBytes } from '../../core/cache-history';
import { SseSession } from './sse-session';

const CATCH_UP_PAGE = 256;
const HEARTBEAT_MS = 15_000;

/**
 * `GET /cacheName/{cacheName}/events/stream`: the cache's events from `from` read from the
 * journal (paced by the client), then live ones from `journal.follow()`. Live events that
 * arrive during catch-up wait in a buffer of the same bound as the socket queue.
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly sessions = new Set<SseSession>();
  /**
   * Open streams per org (SSE_MAX_CLIENTS_PER_ORG) and per principal (SSE_MAX_CLIENTS_PER_TOKEN:
   * every token of one principal counts as one, see principalKey).
   */
  private readonly perOrg = new Map<string, number>();
  private readonly perPrincipal = new Map<string, number>();
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private readonly maxPerOrg: number;
  private readonly maxPerToken: number;
  /** Comments keep an idle stream's socket inside the connection idle timeout. */
  private readonly heartbeatMs: number;

  constructor(
    private readonly journal: Journal,
    private readonly history: HistoryService,
    @Inject(APP_CONFIG) config: HistoryConfig & EdgeConfig,
  ) {
    this.maxQueued = config.historyStreamBuffer;
    this.maxQueuedBytes = config.edge.sseQueueBytes;
    this.maxPerOrg = config.edge.sseMaxClientsPerOrg;
    this.maxPerToken = config.edge.sseMaxClientsPerToken;
    this.heartbeatMs = Math.min(HEARTBEAT_MS, Math.floor(config.edge.connectionIdleTimeoutMs / 3));
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** `principal`: who opens the stream (SSE_MAX_CLIENTS_PER_TOKEN counts by its principalKey). */
  async open(ref: EntityRef, from: number, reply: FastifyReply, principal: Principal): Promise<void> {
    const caller = principalKey(principal);
    const entityId = encodeEntityId(ref);
    await this.history.currentSeq(ref);
    if (reply.request.method === 'HEAD') {
      // Node never sends a HEAD's headers before the response ends: a stream would answer nothing
      // and hold one of the org's slots until the idle timeout. Headers only, no slot.
      await reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache, no-transform').send();
      return;
    }
    const byCaller = this.perPrincipal.get(caller) ?? 0;
    if (byCaller >= this.maxPerToken) {
      throw ApiError.of('TOO_MANY_STREAMS', `this token's principal has ${this.maxPerToken} event streams open (SSE_MAX_CLIENTS_PER_TOKEN); close one first`);
    }
    const open = this.perOrg.get(ref.org) ?? 0;
    if (open >= this.maxPerOrg) {
      throw ApiError.of('TOO_MANY_STREAMS', `this org has ${this.maxPerOrg} event streams open (SSE_MAX_CLIENTS_PER_ORG); close one first`);
    }
    this.perOrg.set(ref.org, open + 1);
    this.perPrincipal.set(caller, byCaller + 1);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // one stream per connection: when the stream ends, so does the connection
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 2000\n\n');

    let subscription: Subscription | undefined;
    const heartbeat = setInterval(() => session.comment('keep-alive'), this.heartbeatMs);
    heartbeat.unref();
    const session = new SseSession(
      raw,
      this.maxQueued,
      from,
      () => {
        subscription?.unsubscribe();
        clearInterval(heartbeat);
        this.sessions.delete(session);
        countDown(this.perOrg, ref.org);
        countDown(this.perPrincipal, caller);
      },
      () => raw.socket?.destroy(),
      this.maxQueuedBytes,
    );
    this.sessions.add(session);

    let live: Envelope[] | undefined = [];
    let liveBytes = 0;
    // An event this session cannot send (or a failed stream) ends this session, never the process.
    subscription = subscribeContained(this.journal.follow(this.journal.highestOffset), {
      name: `event stream of a cache of org ${JSON.stringify(ref.org)}`,
      next: (envelopes) => {
        for (const envelope of envelopes) {
          if (!envelope.entityId.equals(entityId)) continue;
          if (live === undefined) {
            session.event(envelope.seq, toWireEvent(envelope.seq, envelope.offset, envelope.event));
            continue;
          }
          liveBytes += wireEventBytes(envelope.event);
          if (live.push(envelope) > this.maxQueued || liveBytes > this.maxQueuedBytes) {
            live = [];
            session.end('slow-consumer', `more than ${this.maxQueued} live events or ${this.maxQueuedBytes} bytes arrived while catching up`);
          }
        }
      },
      ended: (error) => {
        this.journal.report(error);
        session.end('error', storageFaultOf(error) ? new StorageUnavailableError(error).message : `an event could not be sent: ${(error as Error).message}`);
      },
    });
    if (session.isClosed) subscription.unsubscribe();

    try {
      let next = from;
      for (;;) {
        const page = await this.history.page(ref, next, CATCH_UP_PAGE);
        for (const event of page.events) if (!session.event(event.seq, event)) return;
        next = page.next;
        await session.writable();
        if (session.isClosed || !page.hasMore) break;
      }
      const buffered = live;
      live = undefined;
      for (const envelope of buffered) session.event(envelope.seq, toWireEvent(envelope.seq, envelope.offset, envelope.event));
    } catch (error) {
      // A storage fault: healed like any other, and its message (which may name server paths) stays in the log.
      this.journal.report(error);
      session.end('error', storageFaultOf(error) ? new StorageUnavailableError(error).message : (error as Error).message);
    }
  }

  onModuleDestroy(): void {
    for (const session of [...this.sessions]) session.end('shutdown');
  }
}

function countDown(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left === 0) counts.delete(key);
  else counts.set(key, left);
}
