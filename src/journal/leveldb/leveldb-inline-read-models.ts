import { Logger } from '@nestjs/common';
import { Packr } from 'msgpackr';
import { CacheState } from '../../domain';
import { Envelope } from '../journal';
import { CacheNameRow, DueExpiry, InlineReadModels, KeyPage, KeyPageRequest, KeyPageRow, KeyRow, NameRow, ReadModelRows, RepairedRows, applyToReadModels, repairRowsInTurns } from '../inline-read-models';
import { EntityRef, decodeEntityId, encodeEntityId, encodeOrgPrefix, prefixEnd, readUint64BE, uint64BE, writeUint64BE } from '../keys';
import { Storage, Sublevel } from './storage';

const packr = new Packr({ useRecords: false });

/** A raw LevelDB op with its key already prefixed by its key space (no per-op sublevel transcoding). */
export type RawOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

const EMPTY = Buffer.alloc(0);
const FLAG_KEY = Buffer.from('inline-read-models');
/** Set once the journal-bytes rows are kept (a data directory from before them is rebuilt once at its first start). */
export const DISK_FLAG_KEY = Buffer.from('journal-bytes');
const REBUILD_CHUNK = 512;
/** Journal rows read per slice when only the journal-bytes rows are counted again (the event loop runs between slices). */
const WEIGH_SLICE = 2048;
/** Journal-bytes rows written per batch by that count. */
const WEIGH_WRITE_CHUNK = 1000;
/** Key rows kept in memory by default (INLINE_ROW_CACHE_ENTRIES), about 120 bytes each. */
export const DEFAULT_ROW_CACHE_ENTRIES = 50_000;

const latin1 = (bytes: Buffer) => bytes.toString('latin1');

/** What one event weighs on disk: its journal row (key + record), its global-index row and its offset row. */
export const eventDiskBytes = (journalKeyBytes: number, recordBytes: number): number => 2 * journalKeyBytes + recordBytes + journalKeyBytes + 16;

/** Keys of the journal-bytes rows: `o` + org prefix, `c` + entity id, `t` for the total. */
export const TOTAL_KEY = Buffer.from('t');
export const orgBytesKey = (org: string) => Buffer.concat([Buffer.from('o'), encodeOrgPrefix(org)]);
export const cacheBytesKey = (entityId: Buffer) => Buffer.concat([Buffer.from('c'), entityId]);

/** What one stored event weighs, as the journal-bytes rows count it, for the one-time count. */
export interface WeighedEvent {
  readonly ref: EntityRef;
  readonly entityId: Buffer;
  readonly bytes: number;
}

function encodeKeyRow(row: KeyRow): Buffer {
  const out = Buffer.allocUnsafe(12);
  writeUint64BE(out, row.expiresAt, 0);
  out.writeUInt32BE(row.bytes, 8);
  return out;
}

function decodeKeyRow(value: Uint8Array): KeyRow {
  return { expiresAt: readUint64BE(value, 0), bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32BE(8) };
}

const encodeNameRow = (row: NameRow) => packr.pack([row.description, row.deleted]);
function decodeNameRow(value: Uint8Array): NameRow {
  const [description, deleted] = packr.unpack(value) as [string, boolean];
  return { description, deleted };
}

/** Prefixes of the inline key spaces, as raw bytes. */
export class InlineSpaces {
  readonly keys: Buffer;
  readonly names: Buffer;
  readonly orgBytes: Buffer;
  readonly expiry: Buffer;

  constructor(storage: Storage) {
    const prefix = (sublevel: Sublevel) => Buffer.from(sublevel.prefix, 'utf8');
    this.keys = prefix(storage.listing);
    this.names = prefix(storage.names);
    this.orgBytes = prefix(storage.orgBytes);
    this.expiry = prefix(storage.expiry);
  }

  keyRow(entityId: Buffer, key: string): Buffer {
    const keyBytes = Buffer.from(key, 'utf8');
    return Buffer.concat([this.keys, entityId, keyBytes], this.keys.length + entityId.length + keyBytes.length);
  }

  expiryRow(expiresAt: number, entityId: Buffer, key: string): Buffer {
    const keyBytes = Buffer.from(key, 'utf8');
    const out = Buffer.allocUnsafe(this.expiry.length + 8 + entityId.length + keyBytes.length);
    this.expiry.copy(out, 0);
    writeUint64BE(out, expiresAt, this.expiry.length);
    entityId.copy(out, this.expiry.length + 8);
    keyBytes.copy(out, this.expiry.length + 8 + entityId.length);
    return out;
  }
}

/**
 * The key rows this journal wrote or read last, so a group commit of overwrites does not
 * first wait for a LevelDB read of the rows it replaces (a `getMany` before every synced
 * batch measured ~17 % of a durable SET's main thread and a second trip to LevelDB's thread
 * per commit). Exact for the same reason as the org totals: only this journal writes the
 * rows; it learns a batch's rows only once the batch is written and forgets everything when a
 * write fails or rows are rebuilt or repaired. Bounded (INLINE_ROW_CACHE_ENTRIES; 0: off):
 * the oldest written row goes first. `null` records a row known to be absent.
 */
export class KeyRowCache {
  private readonly rows = new Map<string, KeyRow | null>();
  /**
   * Walks the rows oldest first, kept from one eviction to the next: a fresh `keys().next()`
   * per eviction steps again over every entry deleted since V8 last compacted the Map's table,
   * which made a full cache cost ~20 µs per row set (measured: 150,000 new rows past 50,000,
   * 3.6 s of a 150,000-key fill). Everything before it is deleted; a row set again moves behind it.
   */
  private oldest: IterableIterator<string> = this.rows.keys();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.rows.size;
  }

  /** The row, `null` if known absent, `undefined` if not known. */
  get(id: string, key: string): KeyRow | null | undefined {
    return this.rows.get(id + key);
  }

  set(id: string, key: string, row: KeyRow | null): void {
    if (this.capacity === 0) return;
    // latin1 of an entity id is prefix-free, so id + key names one row.
    const name = id + key;
    this.rows.delete(name);
    this.rows.set(name, row);
    while (this.rows.size > this.capacity) {
      let next = this.oldest.next();
      if (next.done) next = (this.oldest = this.rows.keys()).next(); // cannot happen while rows remain; a spent iterator stays spent
      this.rows.delete(next.value as string);
    }
  }

  clear(): void {
    this.rows.clear();
    this.oldest = this.rows.keys();
  }
}

/**
 * The inline read-model rows of one group commit: what the batch's events read is fetched
 * first (one `getMany`, plus a range read per Flushed/CacheDeleted cache), then every event is
 * applied in order on an overlay, and the overlay becomes raw ops in the events' own batch.
 */
class BatchRows implements ReadModelRows {
  private readonly keyBase = new Map<string, Map<string, KeyRow | undefined>>();
  private readonly keyOverlay = new Map<string, Map<string, KeyRow | null>>();
  /** The entity ids behind `keyOverlay`'s keys. */
  private readonly entityIds = new Map<string, Buffer>();
  private readonly scanned = new Set<string>();
  private readonly nameBase = new Map<string, NameRow | undefined>();
  private readonly nameOverlay = new Map<string, { entityId: Buffer; row: NameRow | null }>();
  private readonly expiryOverlay = new Map<string, { key: Buffer; put: boolean }>();
  readonly orgDeltas = new Map<string, number>();

  constructor(
    private readonly spaces: InlineSpaces,
    private readonly cache?: KeyRowCache,
  ) {}

  /** Reads what applying `envelopes` will look at (key rows the cache knows are not read). */
  async prefetch(storage: Storage, envelopes: readonly Envelope[]): Promise<void> {
    const wanted: Buffer[] = [];
    const slots: Array<(value: Buffer | undefined) => void> = [];
    const scans: Buffer[] = [];
    for (const { entityId, event } of envelopes) {
      const id = latin1(entityId);
      switch (event.type) {
        case 'Set':
        case 'ExpiryChanged':
        case 'Deleted':
        case 'Expired':
        case 'Evicted': {
          let base = this.keyBase.get(id);
          if (base === undefined) this.keyBase.set(id, (base = new Map()));
          if (base.has(event.key)) break;
          const key = event.key;
          const known = this.cache?.get(id, key);
          base.set(key, known ?? undefined);
          if (known !== undefined) break;
          wanted.push(this.spaces.keyRow(entityId, key));
          slots.push((value) => base.set(key, value === undefined ? undefined : decodeKeyRow(value)));
          break;
        }
        case 'Flushed':
        case 'CacheDeleted':
          if (!this.scanned.has(id)) {
            this.scanned.add(id);
            scans.push(entityId);
          }
          if (event.type === 'CacheDeleted' && !this.nameBase.has(id)) {
            this.nameBase.set(id, undefined);
            wanted.push(Buffer.concat([this.spaces.names, entityId]));
            slots.push((value) => this.nameBase.set(id, value === undefined ? undefined : decodeNameRow(value)));
          }
          break;
        default:
          break;
      }
    }
    if (wanted.length > 0) {
      const values = await storage.db.getMany(wanted);
      values.forEach((value, i) => slots[i](value));
    }
    for (const entityId of scans) {
      const base = new Map<string, KeyRow | undefined>();
      for await (const [key, value] of storage.listing.iterator({ gt: entityId, lt: prefixEnd(entityId) })) {
        base.set(key.toString('utf8', entityId.length), decodeKeyRow(value));
      }
      // Rows fetched by key above are in the range read too; the range read is complete.
      this.keyBase.set(latin1(entityId), base);
    }
  }

  keyRow(entityId: Buffer, key: string): KeyRow | undefined {
    const id = latin1(entityId);
    const overlay = this.keyOverlay.get(id);
    if (overlay?.has(key)) return overlay.get(key) ?? undefined;
    return this.keyBase.get(id)?.get(key);
  }

  *keyRows(entityId: Buffer): Iterable<[string, KeyRow]> {
    const id = latin1(entityId);
    const keys = new Set([...(this.keyBase.get(id)?.keys() ?? []), ...(this.keyOverlay.get(id)?.keys() ?? [])]);
    for (const key of keys) {
      const row = this.keyRow(entityId, key);
      if (row !== undefined) yield [key, row];
    }
  }

  nameRow(entityId: Buffer): NameRow | undefined {
    const id = latin1(entityId);
    const overlay = this.nameOverlay.get(id);
    return overlay !== undefined ? (overlay.row ?? undefined) : this.nameBase.get(id);
  }

  delName(entityId: Buffer): void {
    this.nameOverlay.set(latin1(entityId), { entityId, row: null });
  }

  private overlayOf(entityId: Buffer): Map<string, KeyRow | null> {
    const id = latin1(entityId);
    let overlay = this.keyOverlay.get(id);
    if (overlay === undefined) this.keyOverlay.set(id, (overlay = new Map()));
    return overlay;
  }

  putKey(entityId: Buffer, key: string, row: KeyRow): void {
    this.overlayOf(entityId).set(key, row);
    this.entityIds.set(latin1(entityId), entityId);
  }

  delKey(entityId: Buffer, key: string): void {
    this.overlayOf(entityId).set(key, null);
    this.entityIds.set(latin1(entityId), entityId);
  }

  putName(entityId: Buffer, row: NameRow): void {
    this.nameOverlay.set(latin1(entityId), { entityId, row });
  }

  putExpiry(expiresAt: number, entityId: Buffer, key: string): void {
    const row = this.spaces.expiryRow(expiresAt, entityId, key);
    this.expiryOverlay.set(latin1(row), { key: row, put: true });
  }

  delExpiry(expiresAt: number, entityId: Buffer, key: string): void {
    const row = this.spaces.expiryRow(expiresAt, entityId, key);
    this.expiryOverlay.set(latin1(row), { key: row, put: false });
  }

  addOrgBytes(org: string, delta: number): void {
    this.orgDeltas.set(org, (this.orgDeltas.get(org) ?? 0) + delta);
  }

  /** Tells the cache the rows this batch read by key and wrote (call once the batch is written). */
  remember(cache: KeyRowCache): void {
    for (const [id, base] of this.keyBase) {
      if (this.scanned.has(id)) continue; // a whole cache's rows: not worth keeping
      for (const [key, row] of base) cache.set(id, key, row ?? null);
    }
    for (const [id, overlay] of this.keyOverlay) for (const [key, row] of overlay) cache.set(id, key, row);
  }

  /** The rows' final state as raw ops (org totals are added by the caller, who knows them). */
  ops(out: RawOp[]): void {
    for (const [id, overlay] of this.keyOverlay) {
      const entityId = this.entityIds.get(id)!;
      for (const [key, row] of overlay) {
        const rowKey = this.spaces.keyRow(entityId, key);
        out.push(row === null ? { type: 'del', key: rowKey } : { type: 'put', key: rowKey, value: encodeKeyRow(row) });
      }
    }
    for (const { entityId, row } of this.nameOverlay.values()) {
      const key = Buffer.concat([this.spaces.names, entityId]);
      out.push(row === null ? { type: 'del', key } : { type: 'put', key, value: encodeNameRow(row) });
    }
    for (const { key, put } of this.expiryOverlay.values()) out.push(put ? { type: 'put', key, value: EMPTY } : { type: 'del', key });
  }
}

/**
 * The LevelDB journal's inline read models: key listing with each entry's expiry and size,
 * cache names, per-org byte totals and the expiry index (expiresAt → cache, key).
 */
export class LevelDbInlineReadModels extends InlineReadModels {
  protected readonly logger = new Logger('ReadModels');
  private readonly spaces: InlineSpaces;
  /** Org byte totals loaded so far; only this journal changes them, so the copy stays exact. */
  private readonly orgTotals = new Map<string, number>();
  private readonly keyRows: KeyRowCache;
  /** Journal-bytes rows read or written so far, by row key (latin1); exact for the same reason as the org totals. */
  protected readonly diskBytes = new Map<string, number>();

  constructor(
    private readonly storage: Storage,
    private readonly readLog: (afterOffset: number) => AsyncIterable<readonly Envelope[]>,
    /** Runs `fn` while no group commit is written (rows rebuilt under appends would be wrong). */
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
    rowCacheEntries = DEFAULT_ROW_CACHE_ENTRIES,
  ) {
    super();
    this.spaces = new InlineSpaces(storage);
    this.keyRows = new KeyRowCache(rowCacheEntries);
  }

  /** Key rows known without a read (for tests and the benchmark). */
  get cachedKeyRows(): number {
    return this.keyRows.size;
  }

  /** Forgets what it knew of the rows (a write failed: what is on disk is not known). */
  forget(): void {
    this.keyRows.clear();
    this.orgTotals.clear();
    this.diskBytes.clear();
  }

  /**
   * Builds the rows from the log when this data directory has none yet (written before they
   * were inline); one written before journal bytes were counted has only those counted, once.
   */
  async open(): Promise<void> {
    this.forget();
    if ((await this.storage.meta.get(FLAG_KEY)) === undefined) await this.rebuildNow();
    else if ((await this.storage.meta.get(DISK_FLAG_KEY)) === undefined) await this.countJournalBytes('the data directory was written before journal bytes were counted');
    await this.diskRow(TOTAL_KEY);
  }

  /**
   * Every stored event with what it weighs, in slices (the embedded journal: each record's key
   * and value as stored, as its group commit counted them). `limit` is the NATS read models'.
   */
  protected async *journalWeights(): AsyncGenerator<WeighedEvent[]> {
    const iterator = this.storage.journal.iterator();
    try {
      let last: { id: Buffer; ref: EntityRef; entityId: Buffer } | undefined;
      for (;;) {
        const chunk = await iterator.nextv(WEIGH_SLICE);
        if (chunk.length === 0) break;
        const out: WeighedEvent[] = [];
        for (const [key, value] of chunk) {
          // Rows of one cache are adjacent: its id is decoded once.
          const idLength = key.length - 8;
          if (last === undefined || last.id.length !== idLength || last.id.compare(key, 0, idLength) !== 0) {
            const entityId = Buffer.from(key.subarray(0, idLength));
            last = { id: entityId, ref: decodeEntityId(entityId).ref, entityId };
          }
          out.push({ ref: last.ref, entityId: last.entityId, bytes: eventDiskBytes(key.length, value.length) });
        }
        yield out;
      }
    } finally {
      await iterator.close();
    }
  }

  /** Journal-bytes rows other than the per-cache, per-org and total ones, read before the count and kept by it (NATS: what compactions freed). */
  protected async journalBytesBaseline(): Promise<Array<{ key: Buffer; value: number }>> {
    return [];
  }

  /**
   * Counts the journal-bytes rows again from the stored events, alone (the other rows are
   * left as they are), in slices that let the event loop run, and then sets the flag that
   * says they are kept. No append may be written meanwhile (at open, or under the lock).
   */
  protected async countJournalBytes(why?: string): Promise<void> {
    const started = Date.now();
    // Said in the log when it is the one-time count (a full rebuild is its own story).
    if (why !== undefined) this.logger.log(`counting journal bytes per cache and org from the journal (${why}); writes wait until it is done`);
    const baseline = await this.journalBytesBaseline();
    await this.storage.journalBytes.clear();
    this.diskBytes.clear();
    const rows = new Map<string, { key: Buffer; bytes: number }>();
    const add = (key: Buffer, bytes: number) => {
      const name = latin1(key);
      const row = rows.get(name);
      if (row === undefined) rows.set(name, { key, bytes });
      else row.bytes += bytes;
    };
    let events = 0;
    for await (const slice of this.journalWeights()) {
      for (const { ref, entityId, bytes } of slice) {
        add(cacheBytesKey(entityId), bytes);
        add(orgBytesKey(ref.org), bytes);
        add(TOTAL_KEY, bytes);
      }
      events += slice.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const { key, value } of baseline) rows.set(latin1(key), { key, bytes: value });
    const space = Buffer.from(this.storage.journalBytes.prefix, 'utf8');
    let ops: RawOp[] = [];
    for (const { key, bytes } of rows.values()) {
      if (bytes > 0) ops.push({ type: 'put', key: Buffer.concat([space, key]), value: uint64BE(bytes) });
      if (ops.length >= WEIGH_WRITE_CHUNK) {
        await this.storage.db.batch(ops as never);
        ops = [];
      }
    }
    if (ops.length > 0) await this.storage.db.batch(ops as never);
    // Orgs' rows and the total are kept in memory now (the budget reads them synchronously);
    // a cache's row is read when the cache next writes, as after any start.
    for (const [name, { bytes }] of rows) if (!name.startsWith('c') && !name.startsWith('f')) this.diskBytes.set(name, bytes);
    await this.storage.meta.put(DISK_FLAG_KEY, Buffer.from('1'), { sync: true } as never);
    const caches = [...rows.keys()].filter((name) => name.startsWith('c')).length;
    if (why !== undefined) this.logger.log(`counted journal bytes: ${events} events of ${caches} caches weigh ${rows.get(latin1(TOTAL_KEY))?.bytes ?? 0} bytes (${Date.now() - started} ms)`);
  }

  protected async diskRow(key: Buffer): Promise<number> {
    const name = latin1(key);
    const known = this.diskBytes.get(name);
    if (known !== undefined) return known;
    const stored = await this.storage.journalBytes.get(key);
    const total = stored === undefined ? 0 : readUint64BE(stored, 0);
    if (!this.diskBytes.has(name)) this.diskBytes.set(name, total);
    return this.diskBytes.get(name)!;
  }

  override journalBytesNow(org: string): number | undefined {
    return this.diskBytes.get(latin1(orgBytesKey(org)));
  }

  override journalBytes(org: string): Promise<number> {
    return this.diskRow(orgBytesKey(org));
  }

  /** Journal bytes of one cache, read from the store if not known yet. */
  cacheJournalBytes(ref: EntityRef): Promise<number> {
    return this.diskRow(cacheBytesKey(encodeEntityId(ref)));
  }

  override cacheJournalBytesNow(ref: EntityRef): number | undefined {
    return this.diskBytes.get(latin1(cacheBytesKey(encodeEntityId(ref))));
  }

  override totalJournalBytesNow(): number | undefined {
    return this.diskBytes.get(latin1(TOTAL_KEY));
  }

  /**
   * Ops that add `delta` journal bytes to a cache, its org and the total (negative: events
   * dropped), and a function to call once they are written. The caller holds the journal's
   * lock or is the group commit, so no two of these interleave.
   */
  async diskBytesOps(deltas: ReadonlyMap<string, { ref: EntityRef; entityId: Buffer; bytes: number }>, out: RawOp[]): Promise<() => void> {
    const rows = new Map<string, { key: Buffer; delta: number }>();
    const add = (key: Buffer, delta: number) => {
      const name = latin1(key);
      const row = rows.get(name);
      if (row === undefined) rows.set(name, { key, delta });
      else row.delta += delta;
    };
    for (const { ref, entityId, bytes } of deltas.values()) {
      if (bytes === 0) continue;
      add(cacheBytesKey(entityId), bytes);
      add(orgBytesKey(ref.org), bytes);
      add(TOTAL_KEY, bytes);
    }
    const totals: Array<[string, number]> = [];
    const space = Buffer.from(this.storage.journalBytes.prefix, 'utf8');
    for (const [name, { key, delta }] of rows) {
      const total = Math.max(0, (await this.diskRow(key)) + delta);
      totals.push([name, total]);
      const rowKey = Buffer.concat([space, key]);
      out.push(total === 0 ? { type: 'del', key: rowKey } : { type: 'put', key: rowKey, value: uint64BE(total) });
    }
    return () => {
      for (const [name, total] of totals) this.diskBytes.set(name, total);
    };
  }

  /**
   * The raw ops that bring the rows up to date with `envelopes` (in offset order), and a
   * function to call once they are written.
   */
  async opsFor(envelopes: readonly Envelope[], out: RawOp[], sizes?: readonly number[]): Promise<() => void> {
    const rows = new BatchRows(this.spaces, this.keyRows);
    await rows.prefetch(this.storage, envelopes);
    for (const { ref, entityId, event } of envelopes) applyToReadModels(rows, ref, entityId, event);
    const written = await this.finish(rows, out);
    let diskWritten = () => undefined as void;
    if (sizes !== undefined) {
      const deltas = new Map<string, { ref: EntityRef; entityId: Buffer; bytes: number }>();
      envelopes.forEach(({ ref, entityId }, i) => {
        const id = latin1(entityId);
        const delta = deltas.get(id);
        if (delta === undefined) deltas.set(id, { ref, entityId, bytes: sizes[i] });
        else delta.bytes += sizes[i];
      });
      diskWritten = await this.diskBytesOps(deltas, out);
    }
    return () => {
      written();
      diskWritten();
      rows.remember(this.keyRows);
    };
  }

  private async finish(rows: BatchRows, out: RawOp[]): Promise<() => void> {
    rows.ops(out);
    const totals = new Map<string, number>();
    for (const [org, delta] of rows.orgDeltas) {
      if (delta === 0) continue;
      const total = Math.max(0, (await this.orgTotal(org)) + delta);
      totals.set(org, total);
      // A row only while the org holds bytes: maintained and rebuilt rows then agree exactly.
      const key = Buffer.concat([this.spaces.orgBytes, encodeOrgPrefix(org)]);
      out.push(total === 0 ? { type: 'del', key } : { type: 'put', key, value: uint64BE(total) });
    }
    return () => {
      for (const [org, total] of totals) this.orgTotals.set(org, total);
    };
  }

  private async orgTotal(org: string): Promise<number> {
    const known = this.orgTotals.get(org);
    if (known !== undefined) return known;
    const stored = await this.storage.orgBytes.get(encodeOrgPrefix(org));
    const total = stored === undefined ? 0 : readUint64BE(stored, 0);
    this.orgTotals.set(org, total);
    return total;
  }

  async listKeys(ref: EntityRef, now: number): Promise<string[]> {
    const prefix = encodeEntityId(ref);
    const keys: string[] = [];
    for await (const [row, value] of this.storage.listing.iterator({ gt: prefix, lt: prefixEnd(prefix) })) {
      const expiresAt = readUint64BE(value, 0);
      if (expiresAt === 0 || expiresAt > now) keys.push(row.toString('utf8', prefix.length));
    }
    return keys;
  }

  async keyPage(ref: EntityRef, now: number, request: KeyPageRequest): Promise<KeyPage> {
    const id = encodeEntityId(ref);
    const start = request.prefix === undefined ? id : Buffer.concat([id, request.prefix]);
    const after = request.after === undefined ? undefined : Buffer.concat([id, request.after]);
    // After the cursor, or from the prefix when the cursor lies before it.
    const from = after !== undefined && Buffer.compare(after, start) >= 0 ? { gt: after } : { gte: start };
    const rows: KeyPageRow[] = [];
    let examined = 0;
    let last: Buffer | undefined;
    for await (const [row, value] of this.storage.listing.iterator({ ...from, lt: prefixEnd(start), limit: request.examine })) {
      examined++;
      const key = row.toString('utf8', id.length);
      const { expiresAt, bytes } = decodeKeyRow(value);
      if ((expiresAt === 0 || expiresAt > now) && request.accept(key)) rows.push({ key, expiresAt, bytes });
      if (rows.length >= request.limit || examined >= request.examine) {
        last = Buffer.from(row.subarray(id.length));
        break;
      }
    }
    return { rows, last };
  }

  async listCaches(org: string, includeDeleted = false): Promise<CacheNameRow[]> {
    const prefix = encodeOrgPrefix(org);
    const out: CacheNameRow[] = [];
    for await (const [key, value] of this.storage.names.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
      const { description, deleted } = decodeNameRow(value);
      if (deleted && !includeDeleted) continue;
      out.push({ cacheName: decodeEntityId(key).ref.name, description, deleted });
    }
    return out;
  }

  orgBytes(org: string): Promise<number> {
    return this.orgTotal(org);
  }

  async isLive(ref: EntityRef): Promise<boolean> {
    const row = await this.storage.names.get(encodeEntityId(ref));
    return row !== undefined && !decodeNameRow(row).deleted;
  }

  override async cacheRow(ref: EntityRef): Promise<NameRow | undefined> {
    const row = await this.storage.names.get(encodeEntityId(ref));
    return row === undefined ? undefined : decodeNameRow(row);
  }

  override async cacheRows(refs: readonly EntityRef[]): Promise<Array<NameRow | undefined>> {
    const rows = await this.storage.names.getMany(refs.map(encodeEntityId));
    return rows.map((row) => (row === undefined ? undefined : decodeNameRow(row)));
  }

  /**
   * The cache's rows are read, and compared with its state, without the journal's lock: only
   * this cache's appends change its rows, so they are the rows of `state()`'s version as long
   * as that version has not moved, which is checked again under the lock, held only to add
   * the org total and write the corrections (none, usually). Other orgs' and caches' group
   * commits go on meanwhile; a write to this cache in between answers undefined (the caller
   * tries again). The state is the entity's own, unchanged while its version is.
   */
  async repairCache(ref: EntityRef, state: () => CacheState | undefined): Promise<RepairedRows | undefined> {
    const before = state();
    if (before === undefined) return undefined;
    const version = before.version;
    const entityId = encodeEntityId(ref);
    const rows = new BatchRows(this.spaces);
    // As if the cache were deleted: the prefetch reads all its key rows and its name row.
    await rows.prefetch(this.storage, [{ ref, entityId, seq: 0, offset: 0, event: { type: 'CacheDeleted', at: 0, by: '', device: null } }]);
    const current = state();
    if (current === undefined || current.version !== version) return undefined;
    const repaired = await repairRowsInTurns(rows, ref, entityId, current);
    return this.exclusive(async () => {
      const now = state();
      if (now === undefined || now.version !== version) return undefined;
      const ops: RawOp[] = [];
      const written = await this.finish(rows, ops);
      if (ops.length > 0) {
        this.keyRows.clear(); // the rows written below are the truth; what was cached may not be
        await this.storage.db.batch(ops as never, { sync: true });
      }
      written();
      return repaired;
    });
  }

  orgBytesNow(org: string): number | undefined {
    return this.orgTotals.get(org);
  }

  async dueExpiries(until: number, limit: number): Promise<DueExpiry[]> {
    const out: DueExpiry[] = [];
    for await (const key of this.storage.expiry.keys({ lt: uint64BE(until + 1), limit })) {
      const expiresAt = readUint64BE(key, 0);
      const { ref, length } = decodeEntityId(key.subarray(8));
      out.push({ ref, key: key.toString('utf8', 8 + length), expiresAt });
    }
    return out;
  }

  rebuild(progress?: { update(offset: number): void }): Promise<void> {
    return this.exclusive(() => this.rebuildNow(progress));
  }

  private async rebuildNow(progress?: { update(offset: number): void }): Promise<void> {
    this.forget();
    for (const space of [this.storage.listing, this.storage.names, this.storage.orgBytes, this.storage.expiry, this.storage.eventOffsets, this.storage.journalBytes]) await space.clear();
    const offsetsPrefix = Buffer.from(this.storage.eventOffsets.prefix, 'utf8');
    const pending: Envelope[] = [];
    const flush = async () => {
      const ops: RawOp[] = [];
      const done = await this.opsFor(pending, ops);
      for (const { entityId, seq, offset } of pending) {
        const journalKey = Buffer.allocUnsafe(entityId.length + 8);
        entityId.copy(journalKey, 0);
        writeUint64BE(journalKey, seq, entityId.length);
        ops.push({ type: 'put', key: Buffer.concat([offsetsPrefix, journalKey]), value: uint64BE(offset) });
      }
      await this.storage.db.batch(ops as never);
      done();
      progress?.update(pending[pending.length - 1].offset);
      pending.length = 0;
    };
    for await (const chunk of this.readLog(0)) {
      pending.push(...chunk);
      if (pending.length >= REBUILD_CHUNK) await flush();
    }
    if (pending.length > 0) await flush();
    // Journal bytes from the events as stored (what their commits counted), not re-encoded.
    await this.countJournalBytes();
    await this.storage.meta.put(FLAG_KEY, Buffer.from('1'), { sync: true } as never);
  }

  async dump(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, space] of [
      ['keys', this.storage.listing],
      ['names', this.storage.names],
      ['org-bytes', this.storage.orgBytes],
      ['expiry', this.storage.expiry],
    ] as const) {
      for await (const [key, value] of space.iterator()) out.push(`${name}:${key.toString('hex')}=${value.toString('hex')}`);
    }
    return out;
  }
}
