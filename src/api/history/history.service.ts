import { Injectable } from '@nestjs/common';
import { Principal } from '../../auth/principal';
import { CacheEvent } from '../../domain';
import { CacheHistory, ResolvedPoint } from '../../core/cache-history';
import { SortedKeyRow } from '../../core/sorted-key-page';
import { KeyPageRequest } from '../../journal/inline-read-models';
import { EntityRef } from '../../journal/keys';
import { asBuffer } from '../native/binary';
import { Point, PointQuery, parsePoint } from './point-in-time';

/** One event as the history API shows it. Values are base64 only here, at the JSON edge. */
export interface WireEvent {
  readonly seq: number;
  readonly offset: number | null;
  readonly type: CacheEvent['type'];
  readonly time: string;
  readonly by: string;
  readonly device: string | null;
  readonly key?: string;
  readonly value?: string;
  readonly expiresAt?: string | null;
  readonly description?: string;
  readonly settings?: { capacity: number; ttlSeconds: number; maxValueBytes: number; cacheNullValue: boolean };
}

export function toWireEvent(seq: number, offset: number | undefined, event: CacheEvent): WireEvent {
  const base = { seq, offset: offset ?? null, type: event.type, time: new Date(event.at).toISOString(), by: event.by, device: event.device };
  switch (event.type) {
    case 'Set':
      return {
        ...base,
        key: event.key,
        value: asBuffer(event.value).toString('base64'),
        expiresAt: event.expiresAt === 0 ? null : new Date(event.expiresAt).toISOString(),
      };
    case 'ExpiryChanged':
      return { ...base, key: event.key, expiresAt: event.expiresAt === 0 ? null : new Date(event.expiresAt).toISOString() };
    case 'Deleted':
    case 'Expired':
    case 'Evicted':
      return { ...base, key: event.key };
    case 'SettingsChanged':
      return { ...base, settings: { capacity: event.capacity, ttlSeconds: event.ttlSeconds, maxValueBytes: event.maxValueBytes, cacheNullValue: event.cacheNullValue } };
    case 'Created':
    case 'DescriptionChanged':
      return { ...base, description: event.description };
    default:
      return base;
  }
}

export interface EventPage {
  readonly events: WireEvent[];
  /** `from` of the next page (also where to continue polling when `hasMore` is false). */
  readonly next: number;
  readonly hasMore: boolean;
}

/**
 * History as the HTTP families ask for it: points named by query strings, events as JSON with
 * base64 values. The reads themselves are the core's (`CacheHistory`), shared with the Redis engine.
 */
@Injectable()
export class HistoryService {
  constructor(private readonly history: CacheHistory) {}

  /** `currentSeq`, synchronously when the entity is ready (the ETag check on every GET). */
  currentSeqNow(ref: EntityRef): number | Promise<number> {
    return this.history.currentSeqNow(ref);
  }

  /** The cache's committed sequence number (0: it never had an event). */
  currentSeq(ref: EntityRef): Promise<number> {
    return this.history.currentSeq(ref);
  }

  /** The sequence number a point names; 400 beyond the newest event, 410 if compacted away. */
  resolve(ref: EntityRef, point: Point): Promise<number> {
    return this.history.resolve(ref, point);
  }

  pointInTime(principal: Principal, cacheName: string, query: PointQuery): Promise<ResolvedPoint> {
    return this.history.pointInTime(principal, cacheName, parsePoint(query));
  }

  /** `GET /get/{cacheName}/{key}?at=|asOf=`: the JSON body the native read gives, as it was then. */
  async getJsonAt(principal: Principal, cacheName: string, key: string, query: PointQuery) {
    const value = await this.valueAt(principal, cacheName, key, query);
    return value === undefined
      ? { cacheName, key, success: false, value: '' }
      : { cacheName, key, success: true, value: asBuffer(value).toString('base64') };
  }

  valueAt(principal: Principal, cacheName: string, key: string, query: PointQuery): Promise<Uint8Array | undefined> {
    return this.history.valueAt(principal, cacheName, key, parsePoint(query));
  }

  /** `GET /cacheName/{cacheName}/keys?at=|asOf=` */
  async keysAt(principal: Principal, cacheName: string, query: PointQuery): Promise<{ cacheName: string; keys: string[] }> {
    return { cacheName, keys: await this.history.keysAt(principal, cacheName, parsePoint(query)) };
  }

  /** `GET /cacheName/{cacheName}/keys?at=|asOf=&cursor=`: a page of the keys at a point (see `CacheHistory.keyPageAt`). */
  keyPageAt(principal: Principal, cacheName: string, query: PointQuery, request: KeyPageRequest): Promise<{ rows: SortedKeyRow[]; last?: Buffer }> {
    return this.history.keyPageAt(principal, cacheName, parsePoint(query), request);
  }

  /** A page of events as JSON (see `CacheHistory.page`). */
  async page(ref: EntityRef, from: number, limit: number, charge?: (bytes: number) => void): Promise<EventPage> {
    const { records, next, hasMore } = await this.history.page(ref, from, limit, charge);
    return { events: records.map((r) => toWireEvent(r.seq, r.offset, r.event)), next, hasMore };
  }
}
