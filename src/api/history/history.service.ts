import { Inject, Injectable } from '@nestjs/common';
import { Principal } from '../../auth/principal';
import { Clock } from '../../config/clock';
import { APP_CONFIG } from '../../config/settings';
import type { HistoryConfig } from '../../config/history';
import { CacheEvent, liveEntry, sortedLiveKeys } from '../../domain';
import { EntityRegistry } from '../../entities/entity-registry';
import { HistoryGoneError, PointInTime, PointInTimeTooLargeError, ReplayLimitError, stateAt } from '../../journal/history';
import { Journal } from '../../journal/journal';
import { EntityRef, MAX_SEQ } from '../../journal/keys';
import { SnapshotStore } from '../../journal/snapshot-store';
import { asBuffer } from '../native/binary';
import { SortedKeyRow, pageSortedRows, sortKeyRows } from '../native/key-scan';
import { KeyPageRequest } from '../../journal/inline-read-models';
import { ApiError } from '../errors/api-error';
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

/** A resolved point-in-time read: the state there and the time its expiries are judged at. */
export interface ResolvedPoint extends PointInTime {
  readonly now: number;
}

/** The sorted keys of a rebuilt point, kept between pages of one walk. */
interface PointKeys {
  readonly rows: SortedKeyRow[];
  /** The time its expiries are judged at, for `?at=` (an `asOf` judges at its own time). */
  readonly time: number;
  /** About what its rows hold in memory. */
  readonly weight: number;
  usedAt: number;
}

/** Rebuilt points kept for paging (each holds its keys and sizes, not its values). */
export const POINT_KEYS_KEPT = 4;
/** About the memory a kept row takes besides its key (objects, buffer, numbers). */
const ROW_OVERHEAD_BYTES = 160;
/** How long a kept point outlives its last page. */
export const POINT_KEYS_IDLE_MS = 60_000;

/**
 * History of one cache: its events with offsets, and its state at a past sequence number
 * or time, served from the nearest snapshot at or before that point plus the events after it.
 */
@Injectable()
export class HistoryService {
  /** Point-in-time reads running, by org (POINT_IN_TIME_MAX_PER_ORG). */
  private readonly pointsRunning = new Map<string, number>();
  /** Keys of recently paged points, by org, cache and seq (a past point never changes). */
  private readonly pointKeys = new Map<string, PointKeys>();

  constructor(
    private readonly registry: EntityRegistry,
    private readonly journal: Journal,
    private readonly snapshots: SnapshotStore,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: HistoryConfig,
  ) {}

  /** The cache's committed sequence number (0: it never had an event). */
  /** `currentSeq`, synchronously when the entity is ready (the ETag check on every GET). */
  currentSeqNow(ref: EntityRef): number | Promise<number> {
    return this.registry.seqNow(ref);
  }

  /** A cache that is not live is answered from the read models: no entity is recovered for it. */
  currentSeq(ref: EntityRef): Promise<number> {
    return this.registry.seq(ref);
  }

  /** The sequence number a point names; 400 beyond the newest event, 410 if compacted away. */
  async resolve(ref: EntityRef, point: Point): Promise<number> {
    const current = await this.currentSeq(ref);
    if (point.kind === 'seq') {
      if (point.seq > current) throw ApiError.of('INVALID_REQUEST', `at: the cache's newest event is seq ${current}`);
      return point.seq;
    }
    return gone(() => this.journal.seqAtTime(ref, point.time, this.config.edge.pointInTimeMaxEvents));
  }

  /**
   * The cache's state at a point. Each one decodes a snapshot and replays events, so an org
   * has at most POINT_IN_TIME_MAX_PER_ORG running (429 beyond, before any of it is read), and
   * each decodes at most POINT_IN_TIME_MAX_BYTES (422, judged by the snapshot's stored size
   * before it is decoded, then by the state the replay grows).
   */
  async pointInTime(principal: Principal, cacheName: string, query: PointQuery): Promise<ResolvedPoint> {
    const ref = { org: principal.org, name: cacheName };
    const point = parsePoint(query);
    const { pointInTimeMaxEvents, pointInTimeMaxBytes, pointInTimeMaxPerOrg } = this.config.edge;
    const running = this.pointsRunning.get(ref.org) ?? 0;
    if (pointInTimeMaxPerOrg !== undefined && running >= pointInTimeMaxPerOrg) {
      throw ApiError.of('TOO_MANY_POINT_IN_TIME_READS', `the organisation has ${pointInTimeMaxPerOrg} point-in-time reads running (POINT_IN_TIME_MAX_PER_ORG); try again when one has finished`);
    }
    this.pointsRunning.set(ref.org, running + 1);
    try {
      const seq = await this.resolve(ref, point);
      const found = await gone(() => stateAt(this.journal, this.snapshots, ref, seq, pointInTimeMaxEvents, pointInTimeMaxBytes));
      const now = point.kind === 'time' ? point.time : (found.time ?? 0);
      return { ...found, now };
    } finally {
      const left = (this.pointsRunning.get(ref.org) ?? 1) - 1;
      if (left > 0) this.pointsRunning.set(ref.org, left);
      else this.pointsRunning.delete(ref.org);
    }
  }

  /** `GET /get/{cacheName}/{key}?at=|asOf=`: the JSON body the native read gives, as it was then. */
  async getJsonAt(principal: Principal, cacheName: string, key: string, query: PointQuery) {
    const value = await this.valueAt(principal, cacheName, key, query);
    return value === undefined
      ? { cacheName, key, success: false, value: '' }
      : { cacheName, key, success: true, value: asBuffer(value).toString('base64') };
  }

  async valueAt(principal: Principal, cacheName: string, key: string, query: PointQuery): Promise<Uint8Array | undefined> {
    const { state, now } = await this.pointInTime(principal, cacheName, query);
    return liveEntry(state, key, now)?.value;
  }

  /** `GET /cacheName/{cacheName}/keys?at=|asOf=` */
  async keysAt(principal: Principal, cacheName: string, query: PointQuery): Promise<{ cacheName: string; keys: string[] }> {
    const { state, now } = await this.pointInTime(principal, cacheName, query);
    if (state.status !== 'live') throw ApiError.of('CACHE_NOT_FOUND', 'cache did not exist at that point');
    return { cacheName, keys: sortedLiveKeys(state, now) };
  }

  /**
   * `GET /cacheName/{cacheName}/keys?at=|asOf=&cursor=`: a page of the keys at a point. The
   * first page rebuilds the point (bounded as any point-in-time read) and keeps its sorted keys
   * (not values) for the next pages: POINT_KEYS_KEPT points, together about POINT_IN_TIME_MAX_BYTES,
   * each for POINT_KEYS_IDLE_MS after its last page. A page whose point is not kept rebuilds it:
   * the same answer, at a rebuild's cost.
   */
  async keyPageAt(principal: Principal, cacheName: string, query: PointQuery, request: KeyPageRequest): Promise<{ rows: SortedKeyRow[]; last?: Buffer }> {
    const ref = { org: principal.org, name: cacheName };
    const point = parsePoint(query);
    const seq = await this.resolve(ref, point);
    const id = JSON.stringify([ref.org, ref.name, seq]);
    const clock = this.clock.now();
    for (const [key, kept] of this.pointKeys) if (clock - kept.usedAt > POINT_KEYS_IDLE_MS) this.pointKeys.delete(key);
    let kept = this.pointKeys.get(id);
    if (kept === undefined) {
      // Rebuilt at the seq resolved above, the one it is kept under (an asOf after the newest event moves on).
      const { state, time } = await this.pointInTime(principal, cacheName, { at: String(seq) });
      if (state.status !== 'live') throw ApiError.of('CACHE_NOT_FOUND', 'cache did not exist at that point');
      const rows: SortedKeyRow[] = [];
      for (const [key, entry] of state.entries.entries()) rows.push({ key, utf8: Buffer.from(key, 'utf8'), expiresAt: entry.expiresAt, bytes: entry.value.byteLength });
      const weight = rows.reduce((sum, row) => sum + 3 * row.utf8.length + ROW_OVERHEAD_BYTES, 0);
      kept = { rows: sortKeyRows(rows), time: time ?? 0, weight, usedAt: clock };
      // Kept points together weigh at most POINT_IN_TIME_MAX_BYTES; a heavier one is rebuilt for each page.
      const budget = this.config.edge.pointInTimeMaxBytes;
      if (weight <= budget) {
        this.pointKeys.set(id, kept);
        // Map order is use order: the least recently paged points go first.
        let total = [...this.pointKeys.values()].reduce((sum, p) => sum + p.weight, 0);
        while (this.pointKeys.size > POINT_KEYS_KEPT || total > budget) {
          const [oldest, point] = this.pointKeys.entries().next().value!;
          this.pointKeys.delete(oldest);
          total -= point.weight;
        }
      }
    } else {
      this.pointKeys.delete(id);
      this.pointKeys.set(id, kept);
    }
    kept.usedAt = clock;
    return pageSortedRows(kept.rows, point.kind === 'time' ? point.time : kept.time, request);
  }

  /**
   * Events with `seq >= from`: at most `limit`, and no more than EVENTS_PAGE_MAX_BYTES of
   * them (at least one, so `next` always advances), with their global offsets. `charge` is told
   * each listed event's size before any is encoded (an HTTP answer reserves it against its org's
   * share of unread answers, and may refuse the page by throwing).
   */
  async page(ref: EntityRef, from: number, limit: number, charge?: (bytes: number) => void): Promise<EventPage> {
    await this.registry.seq(ref); // recovered (or known not live) before its events are read
    const records: Array<{ seq: number; event: CacheEvent }> = [];
    const maxBytes = this.config.edge.eventsPageMaxBytes;
    let bytes = 0;
    let hasMore = false;
    for await (const record of this.journal.replay(ref, Math.max(from, 1), MAX_SEQ)) {
      const size = wireEventBytes(record.event);
      if (records.length === limit || (records.length > 0 && bytes + size > maxBytes)) {
        hasMore = true;
        break;
      }
      charge?.(size);
      bytes += size;
      records.push(record);
    }
    // Offsets are written in the events' own batch: known for every listed event.
    const offsets = await this.journal.offsetsOf(ref, records.map((r) => r.seq));
    const events = records.map((r, i) => toWireEvent(r.seq, offsets[i], r.event));
    const next = records.length > 0 ? records[records.length - 1].seq + 1 : Math.max(from, 1);
    return { events, next, hasMore };
  }
}

/** About the bytes of an event's JSON form, before it is built: the fixed fields plus its texts and base64 value. */
export function wireEventBytes(event: CacheEvent): number {
  let bytes = 200 + Buffer.byteLength(event.by) + (event.device === null ? 0 : Buffer.byteLength(event.device));
  if ('key' in event) bytes += Buffer.byteLength(event.key);
  if ('value' in event) bytes += 4 * Math.ceil(event.value.byteLength / 3);
  if ('description' in event) bytes += Buffer.byteLength(event.description);
  return bytes;
}

async function gone<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof HistoryGoneError) throw new ApiError(410, error.code, error.message);
    if (error instanceof ReplayLimitError || error instanceof PointInTimeTooLargeError) throw new ApiError(422, error.code, error.message);
    throw error;
  }
}
