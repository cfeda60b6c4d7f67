import { Principal } from '../auth/principal';
import { CoreClock } from './cache-gateway';
import { CacheEvent, liveEntry, sortedLiveKeys } from '../domain';
import { EntityRegistry } from '../entities/entity-registry';
import { PointInTime, stateAt } from '../journal/history';
import { KeyPageRequest } from '../journal/inline-read-models';
import { Journal } from '../journal/journal';
import { EntityRef, MAX_SEQ } from '../journal/keys';
import { SnapshotStore } from '../journal/snapshot-store';
import { CataloguedError } from './error-catalogue';
import { Point } from './point';
import { SortedKeyRow, pageSortedRows, sortKeyRows } from './sorted-key-page';

/** The bounds of history reads (HistoryConfig's `edge` figures). */
export interface HistoryLimits {
  readonly pointInTimeMaxEvents: number;
  readonly pointInTimeMaxBytes: number;
  readonly pointInTimeMaxPerOrg: number | undefined;
  readonly eventsPageMaxBytes: number;
}

/** A resolved point-in-time read: the state there and the time its expiries are judged at. */
export interface ResolvedPoint extends PointInTime {
  readonly now: number;
}

/** One journaled event with its place in the cache's log and in the journal. */
export interface HistoryRecord {
  readonly seq: number;
  /** The journal-wide offset (undefined only for an event written before offsets were kept). */
  readonly offset: number | undefined;
  readonly event: CacheEvent;
}

export interface HistoryPage {
  readonly records: HistoryRecord[];
  /** `from` of the next page (also where to continue polling when `hasMore` is false). */
  readonly next: number;
  readonly hasMore: boolean;
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
 * History of one cache, for every API family and the Redis engine: its events with offsets,
 * and its state at a past sequence number or time, served from the nearest snapshot at or
 * before that point plus the events after it. Refusals are coded errors (the journal's
 * HISTORY_COMPACTED, POINT_IN_TIME_TOO_COSTLY and POINT_IN_TIME_TOO_LARGE, and the ones here),
 * which each family words its own way.
 */
export class CacheHistory {
  /** Point-in-time reads running, by org (POINT_IN_TIME_MAX_PER_ORG). */
  private readonly pointsRunning = new Map<string, number>();
  /** Keys of recently paged points, by org, cache and seq (a past point never changes). */
  private readonly pointKeys = new Map<string, PointKeys>();

  constructor(
    private readonly registry: EntityRegistry,
    private readonly journal: Journal,
    private readonly snapshots: SnapshotStore,
    private readonly clock: CoreClock,
    private readonly limits: HistoryLimits,
  ) {}

  /** `currentSeq`, synchronously when the entity is ready (the ETag check on every GET). */
  currentSeqNow(ref: EntityRef): number | Promise<number> {
    return this.registry.seqNow(ref);
  }

  /** The cache's committed sequence number (0: it never had an event); a cache that is not live is answered from the read models. */
  currentSeq(ref: EntityRef): Promise<number> {
    return this.registry.seq(ref);
  }

  /** The sequence number a point names; INVALID_REQUEST beyond the newest event, HISTORY_COMPACTED if compacted away. */
  async resolve(ref: EntityRef, point: Point): Promise<number> {
    const current = await this.currentSeq(ref);
    if (point.kind === 'seq') {
      if (point.seq > current) throw new CataloguedError('INVALID_REQUEST', `at: the cache's newest event is seq ${current}`);
      return point.seq;
    }
    return this.journal.seqAtTime(ref, point.time, this.limits.pointInTimeMaxEvents);
  }

  /**
   * The cache's state at a point. Each one decodes a snapshot and replays events, so an org
   * has at most POINT_IN_TIME_MAX_PER_ORG running (refused beyond, before any of it is read),
   * and each decodes at most POINT_IN_TIME_MAX_BYTES (judged by the snapshot's stored size
   * before it is decoded, then by the state the replay grows). With `only`, the state holds
   * those keys' entries alone (a read of one key copies that key's value, not the cache's).
   */
  async pointInTime(principal: Principal, cacheName: string, point: Point, only?: ReadonlySet<string>): Promise<ResolvedPoint> {
    const ref = { org: principal.org, name: cacheName };
    const { pointInTimeMaxEvents, pointInTimeMaxBytes, pointInTimeMaxPerOrg } = this.limits;
    const running = this.pointsRunning.get(ref.org) ?? 0;
    if (pointInTimeMaxPerOrg !== undefined && running >= pointInTimeMaxPerOrg) {
      throw new CataloguedError('TOO_MANY_POINT_IN_TIME_READS', `the organisation has ${pointInTimeMaxPerOrg} point-in-time reads running (POINT_IN_TIME_MAX_PER_ORG); try again when one has finished`);
    }
    this.pointsRunning.set(ref.org, running + 1);
    try {
      const seq = await this.resolve(ref, point);
      const found = await stateAt(this.journal, this.snapshots, ref, seq, pointInTimeMaxEvents, pointInTimeMaxBytes, only);
      const now = point.kind === 'time' ? point.time : (found.time ?? 0);
      return { ...found, now };
    } finally {
      const left = (this.pointsRunning.get(ref.org) ?? 1) - 1;
      if (left > 0) this.pointsRunning.set(ref.org, left);
      else this.pointsRunning.delete(ref.org);
    }
  }

  /** A key's live value at a point; undefined: none then. */
  async valueAt(principal: Principal, cacheName: string, key: string, point: Point): Promise<Uint8Array | undefined> {
    const { state, now } = await this.pointInTime(principal, cacheName, point, new Set([key]));
    return liveEntry(state, key, now)?.value;
  }

  /** Every live key at a point, sorted; CACHE_NOT_FOUND when the cache did not exist then. */
  async keysAt(principal: Principal, cacheName: string, point: Point): Promise<string[]> {
    const { state, now } = await this.pointInTime(principal, cacheName, point);
    if (state.status !== 'live') throw new CataloguedError('CACHE_NOT_FOUND', 'cache did not exist at that point');
    return sortedLiveKeys(state, now);
  }

  /**
   * A page of the keys at a point. The first page rebuilds the point (bounded as any
   * point-in-time read) and keeps its sorted keys (not values) for the next pages:
   * POINT_KEYS_KEPT points, together about POINT_IN_TIME_MAX_BYTES, each for POINT_KEYS_IDLE_MS
   * after its last page. A page whose point is not kept rebuilds it: the same answer, at a
   * rebuild's cost.
   */
  async keyPageAt(principal: Principal, cacheName: string, point: Point, request: KeyPageRequest): Promise<{ rows: SortedKeyRow[]; last?: Buffer }> {
    const ref = { org: principal.org, name: cacheName };
    const seq = await this.resolve(ref, point);
    const id = JSON.stringify([ref.org, ref.name, seq]);
    const clock = this.clock.now();
    for (const [key, kept] of this.pointKeys) if (clock - kept.usedAt > POINT_KEYS_IDLE_MS) this.pointKeys.delete(key);
    let kept = this.pointKeys.get(id);
    if (kept === undefined) {
      // Rebuilt at the seq resolved above, the one it is kept under (an asOf after the newest event moves on).
      const { state, time } = await this.pointInTime(principal, cacheName, { kind: 'seq', seq });
      if (state.status !== 'live') throw new CataloguedError('CACHE_NOT_FOUND', 'cache did not exist at that point');
      const rows: SortedKeyRow[] = [];
      for (const [key, entry] of state.entries.entries()) rows.push({ key, utf8: Buffer.from(key, 'utf8'), expiresAt: entry.expiresAt, bytes: entry.value.byteLength });
      const weight = rows.reduce((sum, row) => sum + 3 * row.utf8.length + ROW_OVERHEAD_BYTES, 0);
      kept = { rows: sortKeyRows(rows), time: time ?? 0, weight, usedAt: clock };
      // Kept points together weigh at most POINT_IN_TIME_MAX_BYTES; a heavier one is rebuilt for each page.
      const budget = this.limits.pointInTimeMaxBytes;
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
   * them as JSON (at least one, so `next` always advances), with their global offsets.
   * `charge` is told each listed event's size before any is encoded (an HTTP answer reserves
   * it against its org's share of unread answers, and may refuse the page by throwing).
   */
  async page(ref: EntityRef, from: number, limit: number, charge?: (bytes: number) => void): Promise<HistoryPage> {
    await this.registry.seq(ref); // recovered (or known not live) before its events are read
    const read: Array<{ seq: number; event: CacheEvent }> = [];
    const maxBytes = this.limits.eventsPageMaxBytes;
    let bytes = 0;
    let hasMore = false;
    for await (const record of this.journal.replay(ref, Math.max(from, 1), MAX_SEQ)) {
      const size = wireEventBytes(record.event);
      if (read.length === limit || (read.length > 0 && bytes + size > maxBytes)) {
        hasMore = true;
        break;
      }
      charge?.(size);
      bytes += size;
      read.push(record);
    }
    // Offsets are written in the events' own batch: known for every listed event.
    const offsets = await this.journal.offsetsOf(ref, read.map((r) => r.seq));
    const records = read.map((r, i) => ({ seq: r.seq, offset: offsets[i], event: r.event }));
    const next = read.length > 0 ? read[read.length - 1].seq + 1 : Math.max(from, 1);
    return { records, next, hasMore };
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
