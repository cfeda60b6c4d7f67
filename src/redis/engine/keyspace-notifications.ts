import type { CacheEvent } from '../../domain';
import { NULL, RedisReply, bulk, int, text } from './reply';
import { globMatch } from './glob';
import type { Session } from './session';

/** A committed event as the notifier needs it: which cache of which org, and the event. */
export interface CommittedEvent {
  readonly ref: { readonly org: string; readonly name: string };
  readonly seq: number;
  readonly event: CacheEvent;
}

/** Live events a CACHELOG.SUBSCRIBE holds while it reads the past; beyond, the stream ends (subscribe again FROM where it stopped). */
export const MAX_HELD_EVENTS = 10_000;

/** The committed events, live (the journal's follow stream); returns how to stop listening. */
export type CommittedEventFeed = (listener: (events: readonly CommittedEvent[]) => void) => () => void;

/** Redis's event name for a committed event (undefined: Redis notifies nothing for it, as for FLUSHDB). */
function eventName(event: CacheEvent): { key: string; name: string } | undefined {
  switch (event.type) {
    case 'Set':
      return { key: event.key, name: 'set' };
    case 'Deleted':
      return { key: event.key, name: 'del' };
    case 'Expired':
      return { key: event.key, name: 'expired' };
    case 'Evicted':
      return { key: event.key, name: 'evicted' };
    case 'ExpiryChanged':
      return { key: event.key, name: event.expiresAt === 0 ? 'persist' : 'expire' };
    default:
      return undefined;
  }
}

/**
 * Keyspace notifications fed by the event log: every committed event of a cache becomes
 * `__keyspace@<cache>__:<key>` (payload: the event) and `__keyevent@<cache>__:<event>`
 * (payload: the key), delivered to the subscribed sessions of the same org only. Listens to
 * the feed only while someone is subscribed.
 */
export class KeyspaceNotifier {
  private readonly byOrg = new Map<string, Set<Session>>();
  private stop: (() => void) | undefined;

  constructor(private readonly feed: CommittedEventFeed | undefined) {}

  /** Call after a session's subscriptions changed. */
  update(session: Session): void {
    const org = session.principal?.org;
    for (const [key, sessions] of this.byOrg) {
      if (key !== org || session.subscriptions === 0) {
        sessions.delete(session);
        if (sessions.size === 0) this.byOrg.delete(key);
      }
    }
    if (org !== undefined && session.subscriptions > 0) {
      let sessions = this.byOrg.get(org);
      if (sessions === undefined) this.byOrg.set(org, (sessions = new Set()));
      sessions.add(session);
    }
    if (this.byOrg.size > 0 && this.stop === undefined && this.feed !== undefined) this.stop = this.feed((events) => this.deliver(events));
    if (this.byOrg.size === 0 && this.stop !== undefined) {
      this.stop();
      this.stop = undefined;
    }
  }

  private deliver(events: readonly CommittedEvent[]): void {
    for (const { ref, seq, event } of events) {
      const sessions = this.byOrg.get(ref.org);
      if (sessions === undefined) continue;
      for (const session of sessions) {
        const stream = session.streams.get(ref.name);
        if (stream === undefined || session.push === undefined || session.principal?.org !== ref.org) continue;
        if (stream.held !== null) {
          if (stream.held.push({ seq, event }) > MAX_HELD_EVENTS) {
            session.streams.delete(ref.name);
            session.push(streamEnded(ref.name, stream.next, `more than ${MAX_HELD_EVENTS} events arrived while the past was read`));
          }
        } else if (seq >= stream.next) {
          stream.next = seq + 1;
          session.push(eventMessage(ref.name, seq, event));
        }
      }
      const named = eventName(event);
      if (named === undefined) continue;
      const keyspace = `__keyspace@${ref.name}__:${named.key}`;
      const keyevent = `__keyevent@${ref.name}__:${named.name}`;
      for (const session of sessions) {
        if (session.push === undefined || session.principal?.org !== ref.org) continue;
        this.send(session, keyspace, named.name, named.key);
        this.send(session, keyevent, named.key, named.name);
      }
    }
  }

  private send(session: Session, channel: string, payload: string, _other: string): void {
    if (session.channels.has(channel)) session.push!(message(['message', channel, payload]));
    if (session.patterns.size === 0) return;
    const bytes = Buffer.from(channel);
    for (const pattern of session.patterns) {
      if (globMatch(Buffer.from(pattern), bytes)) session.push!(message(['pmessage', pattern, channel, payload]));
    }
  }
}

/** A CACHELOG.SUBSCRIBE event: `[cachelog.event, db, seq, type, time, key|null, value|null]`. */
export function eventMessage(db: string, seq: number, event: { type: string; at?: number; time?: string; key?: string; value?: Uint8Array }): RedisReply {
  const time = event.time ?? new Date(event.at ?? 0).toISOString();
  const key = 'key' in event && typeof event.key === 'string' ? bulk(Buffer.from(event.key)) : NULL;
  const value = 'value' in event && event.value instanceof Uint8Array ? bulk(event.value) : NULL;
  return { t: 'push', items: [bulk(Buffer.from('cachelog.event')), bulk(Buffer.from(db)), int(seq), bulk(Buffer.from(event.type)), bulk(Buffer.from(time)), key, value] };
}

/** A CACHELOG.SUBSCRIBE that ended: `[cachelog.ended, db, next-seq, reason]`; subscribing again FROM next-seq misses nothing. */
export function streamEnded(db: string, next: number, reason: string): RedisReply {
  return { t: 'push', items: [bulk(Buffer.from('cachelog.ended')), bulk(Buffer.from(db)), int(next), bulk(Buffer.from(reason))] };
}

const message = (parts: string[]): RedisReply => ({ t: 'push', items: parts.map((p) => bulk(Buffer.from(p))) });

export { text };
