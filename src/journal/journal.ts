import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { CacheEvent, CacheState } from '../domain';
import { decodeEvent, decodeState, encodeEvent, encodeState } from './codec';
import { crc32 } from './crc32';
import { EntityRef, MAX_SEQ, decodeEntityId, readUint64BE, uint64BE, withSeq } from './keys';
import { Storage } from './storage';
import { StorageHealer, describeStorageFault } from './storage-healer';

/** A committed event with its place in the entity's history and in the global log. */
export interface Envelope {
  readonly ref: EntityRef;
  readonly entityId: Buffer;
  readonly seq: number;
  readonly offset: number;
  readonly event: CacheEvent;
}

export type SyncPolicy = 'always' | 'none';

export class JournalUnavailableError extends Error {
  readonly code = 'JOURNAL_UNAVAILABLE';
  constructor(readonly cause: unknown) {
    // The cause's message may name server paths: only its kind goes to clients (the log has it all).
    super(`the journal could not be written (${describeStorageFault(cause)}); writes resume by themselves once storage is back`);
  }
}

/**
 * A journal record that is missing, truncated or fails its checksum. The service refuses
 * to start on one; `REPAIR=true` (or `--repair`) truncates the journal before it.
 */
export class JournalCorruptError extends Error {
  readonly code = 'JOURNAL_CORRUPT';
  constructor(
    readonly ref: EntityRef,
    readonly seq: number,
    reason: string,
    readonly offset?: number,
  ) {
    super(
      `journal record ${JSON.stringify(ref)} seq ${seq}${offset !== undefined ? ` (global offset ${offset})` : ''} is corrupt: ${reason}. ` +
        'Start with REPAIR=true (or --repair) to truncate the journal to the last good record before it.',
    );
  }
}

/** Bytes before the encoded event in a journal value: its CRC-32, big-endian. */
const CRC_BYTES = 4;

/** A journal value: `[u32 crc32(payload)][payload]`. */
export function frameRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(CRC_BYTES + payload.length);
  out.writeUInt32BE(crc32(payload), 0);
  payload.copy(out, CRC_BYTES);
  return out;
}

/** The payload of a journal value, or a reason why it is not intact. */
export function unframeRecord(value: Uint8Array): Uint8Array | string {
  if (value.byteLength < CRC_BYTES + 1) return `record is truncated (${value.byteLength} bytes)`;
  const payload = value.subarray(CRC_BYTES);
  const stored = ((value[0] << 24) | (value[1] << 16) | (value[2] << 8) | value[3]) >>> 0;
  const actual = crc32(payload);
  return stored === actual ? payload : `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
}

interface PendingAppend {
  readonly ref: EntityRef;
  readonly entityId: Buffer;
  readonly firstSeq: number;
  readonly events: readonly CacheEvent[];
  readonly resolve: (envelopes: Envelope[]) => void;
  readonly reject: (error: Error) => void;
}

export interface SnapshotRecord {
  readonly seq: number;
  readonly state: CacheState;
}

const GLOBAL_READ_CHUNK = 512;
const REPLAY_CHUNK = 4096;
/** Newest global records checked on every start. */
const TAIL_CHECK = 1024;

/**
 * The LevelDB event journal. Appends are group-committed: every append waiting when a
 * write starts goes into one batch, written with `sync` (by default); promises resolve
 * only once that batch is on disk, and then the envelopes are published on `committed$`.
 */
export class Journal {
  private readonly logger = new Logger('Journal');
  /** Committed events, in global offset order, one array per group commit. */
  readonly committed$ = new Subject<readonly Envelope[]>();
  /** Seconds each group commit took to write (fsync included), for the metrics. */
  readonly commitTimes$ = new Subject<number>();
  private pending: PendingAppend[] = [];
  private writing = false;
  private scheduled = false;
  private lastOffset = 0;
  private idle: Array<() => void> = [];

  /**
   * @param snapshotsKept snapshots kept per cache (newest first): more of them let
   *   point-in-time reads start nearer their point and `snapshots:K` retention cut deeper.
   */
  private lastFault: unknown;

  constructor(
    private readonly storage: Storage,
    private readonly sync: SyncPolicy = 'always',
    private readonly snapshotsKept = 2,
  ) {}

  /** Reopens the database after a failed write; appends fail fast while it works. */
  get healer(): StorageHealer {
    return this.storage.healer;
  }

  async open(): Promise<void> {
    for await (const key of this.storage.global.keys({ reverse: true, limit: 1 })) {
      this.lastOffset = readUint64BE(key, 0);
    }
  }

  /** The global offset of the newest committed event. */
  get highestOffset(): number {
    return this.lastOffset;
  }

  append(ref: EntityRef, entityId: Buffer, firstSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ref, entityId, firstSeq, events, resolve, reject });
      if (!this.writing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.writeBatch());
      }
    });
  }

  /** Resolves once every append handed in so far is written (or failed). */
  whenIdle(): Promise<void> {
    if (!this.writing && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async writeBatch(): Promise<void> {
    this.scheduled = false;
    this.writing = true;
    const appends = this.pending;
    this.pending = [];
    if (this.healer.healing) {
      // The handle is being reopened: fail fast, leave the database alone.
      const error = new JournalUnavailableError(this.healer.lastFault ?? this.lastFault);
      for (const append of appends) append.reject(error);
      this.finishBatch();
      return;
    }
    const ops: Array<{ type: 'put'; sublevel: Storage['journal']; key: Buffer; value: Buffer }> = [];
    const results: Envelope[][] = [];
    let offset = this.lastOffset;
    for (const append of appends) {
      const envelopes: Envelope[] = [];
      append.events.forEach((event, i) => {
        const seq = append.firstSeq + i;
        const key = withSeq(append.entityId, seq);
        offset += 1;
        ops.push({ type: 'put', sublevel: this.storage.journal, key, value: frameRecord(encodeEvent(event)) });
        ops.push({ type: 'put', sublevel: this.storage.global, key: uint64BE(offset), value: key });
        envelopes.push({ ref: append.ref, entityId: append.entityId, seq, offset, event });
      });
      results.push(envelopes);
    }
    try {
      const startedAt = performance.now();
      await this.storage.db.batch(ops as never, { sync: this.sync === 'always' });
      this.commitTimes$.next((performance.now() - startedAt) / 1000);
      this.lastOffset = offset;
      appends.forEach((append, i) => append.resolve(results[i]));
      this.committed$.next(results.flat());
    } catch (cause) {
      const error = new JournalUnavailableError(cause);
      this.logger.error(`a journal write failed: ${(cause as Error)?.message ?? String(cause)}`);
      this.lastFault = cause;
      this.healer.failed(cause);
      for (const append of appends) append.reject(error);
    }
    this.finishBatch();
  }

  private finishBatch(): void {
    this.writing = false;
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(() => void this.writeBatch());
    } else {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  /** The entity's events with `fromSeq <= seq <= toSeq`, in order. */
  async *replay(entityId: Buffer, fromSeq = 1, toSeq = MAX_SEQ): AsyncGenerator<{ seq: number; event: CacheEvent }> {
    const iterator = this.storage.journal.iterator({ gte: withSeq(entityId, fromSeq), lte: withSeq(entityId, toSeq) });
    try {
      for await (const [key, value] of iterator) {
        const seq = readUint64BE(key, entityId.length);
        yield { seq, event: this.decodeAt(entityId, seq, value) };
      }
    } finally {
      await iterator.close();
    }
  }

  async highestSeq(entityId: Buffer): Promise<number> {
    for await (const key of this.storage.journal.keys({ gte: withSeq(entityId, 0), lte: withSeq(entityId, MAX_SEQ), reverse: true, limit: 1 })) {
      return readUint64BE(key, entityId.length);
    }
    return 0;
  }

  /** Committed events with offset > `afterOffset`, in global order, in chunks. */
  async *readGlobal(afterOffset: number): AsyncGenerator<Envelope[]> {
    let chunk: Array<{ offset: number; key: Buffer }> = [];
    const flush = async (): Promise<Envelope[]> => {
      const values = await this.storage.journal.getMany(chunk.map((c) => c.key));
      return chunk.flatMap(({ offset, key }, i) => {
        const value = values[i];
        if (value === undefined) return []; // compacted away
        const { ref, length } = decodeEntityId(key);
        const entityId = key.subarray(0, length);
        const seq = readUint64BE(key, length);
        return [{ ref, entityId, seq, offset, event: this.decodeAt(entityId, seq, value, offset) }];
      });
    };
    for await (const [key, value] of this.storage.global.iterator({ gt: uint64BE(afterOffset) })) {
      chunk.push({ offset: readUint64BE(key, 0), key: value });
      if (chunk.length >= GLOBAL_READ_CHUNK) {
        yield await flush();
        chunk = [];
      }
    }
    if (chunk.length > 0) yield await flush();
  }

  async saveSnapshot(entityId: Buffer, seq: number, state: CacheState): Promise<void> {
    await this.storage.snapshots.put(withSeq(entityId, seq), encodeState(state));
    const older: Buffer[] = [];
    for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, 0), lt: withSeq(entityId, seq), reverse: true })) {
      older.push(key);
    }
    const stale = older.slice(this.snapshotsKept - 1);
    if (stale.length > 0) await this.storage.snapshots.batch(stale.map((key) => ({ type: 'del' as const, key })));
  }

  /**
   * The newest readable snapshot with `seq <= maxSeq`. An unreadable one is reported loudly
   * and skipped, so recovery falls back to an older snapshot or to a full replay.
   */
  async loadSnapshot(entityId: Buffer, maxSeq = MAX_SEQ): Promise<SnapshotRecord | undefined> {
    // Keys first, then one value at a time: an iterator over values would read ahead the
    // older snapshots too (each can be as large as the whole cache).
    const keys: Buffer[] = [];
    for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, 0), lte: withSeq(entityId, maxSeq), reverse: true })) keys.push(key);
    for (const key of keys) {
      const seq = readUint64BE(key, entityId.length);
      try {
        const value = await this.storage.snapshots.get(key);
        if (value === undefined) continue;
        return { seq, state: decodeState(value) };
      } catch (error) {
        const { ref } = decodeEntityId(entityId);
        this.logger.warn(`snapshot of ${JSON.stringify(ref)} at seq ${seq} is unreadable (${(error as Error).message}); falling back`);
      }
    }
    return undefined;
  }

  /** Decodes a stored journal value after checking its CRC; a bad record throws JournalCorruptError. */
  decodeAt(entityId: Buffer, seq: number, value: Uint8Array, offset?: number): CacheEvent {
    const payload = unframeRecord(value);
    if (typeof payload === 'string') throw new JournalCorruptError(decodeEntityId(entityId).ref, seq, payload, offset);
    try {
      return decodeEvent(payload);
    } catch (error) {
      throw new JournalCorruptError(decodeEntityId(entityId).ref, seq, (error as Error).message, offset);
    }
  }

  /**
   * Visits the entity's events with `seq >= fromSeq` in order, read in chunks with `nextv`
   * (recovery's hot loop: no promise per event).
   */
  async forEachEvent(entityId: Buffer, fromSeq: number, visit: (seq: number, event: CacheEvent) => void): Promise<void> {
    const iterator = this.storage.journal.iterator({ gte: withSeq(entityId, fromSeq), lte: withSeq(entityId, MAX_SEQ) });
    const idLength = entityId.length;
    // The next chunk is read (on LevelDB's thread) while this one is decoded and applied.
    let next: Promise<Array<[Buffer, Buffer]>> | undefined;
    try {
      next = iterator.nextv(REPLAY_CHUNK);
      for (;;) {
        const chunk = await next;
        if (chunk.length === 0) break;
        next = iterator.nextv(REPLAY_CHUNK);
        for (const [key, value] of chunk) {
          const seq = readUint64BE(key, idLength);
          visit(seq, this.decodeAt(entityId, seq, value));
        }
      }
    } catch (error) {
      await next?.catch(() => undefined);
      throw error;
    } finally {
      await iterator.close();
    }
  }

  /**
   * Checks the newest `count` records of the global log: each must point at a journal
   * record that is present and intact. Cheap (bounded), run on every start; recovery
   * checks every record it replays anyway.
   */
  async verifyTail(count = TAIL_CHECK): Promise<void> {
    const entries: Array<[number, Buffer]> = [];
    for await (const [key, value] of this.storage.global.iterator({ reverse: true, limit: count })) entries.push([readUint64BE(key, 0), value]);
    await this.verifyGlobalEntries(entries);
  }

  /**
   * The lowest global offset whose record is missing or corrupt, scanning the whole log
   * (for `--repair`), or undefined when the journal is intact.
   */
  async findFirstCorrupt(): Promise<number | undefined> {
    let chunk: Array<[number, Buffer]> = [];
    const check = async () => {
      try {
        await this.verifyGlobalEntries(chunk);
      } catch (error) {
        if (error instanceof JournalCorruptError) return error.offset;
        throw error;
      }
      chunk = [];
      return undefined;
    };
    for await (const [key, value] of this.storage.global.iterator()) {
      chunk.push([readUint64BE(key, 0), value]);
      if (chunk.length >= GLOBAL_READ_CHUNK) {
        const bad = await check();
        if (bad !== undefined) return bad;
      }
    }
    return chunk.length > 0 ? check() : undefined;
  }

  /**
   * Deletes every event with global offset >= `fromOffset` (of every entity: each loses a
   * suffix, so per-entity sequences stay gapless), snapshots past the new ends, and the
   * projections' offsets past it (they then rebuild). Returns how many events were removed.
   */
  async truncateFrom(fromOffset: number): Promise<number> {
    const removed: Array<{ global: Buffer; key: Buffer }> = [];
    for await (const [key, value] of this.storage.global.iterator({ gte: uint64BE(fromOffset) })) removed.push({ global: key, key: value });
    const firstRemovedSeq = new Map<string, { entityId: Buffer; seq: number }>();
    const ops: unknown[] = [];
    for (const { global, key } of removed) {
      const { length } = decodeEntityId(key);
      const entityId = key.subarray(0, length);
      const seq = readUint64BE(key, length);
      const id = entityId.toString('hex');
      const known = firstRemovedSeq.get(id);
      if (known === undefined || seq < known.seq) firstRemovedSeq.set(id, { entityId: Buffer.from(entityId), seq });
      ops.push({ type: 'del', sublevel: this.storage.global, key: global }, { type: 'del', sublevel: this.storage.journal, key });
    }
    for (const { entityId, seq } of firstRemovedSeq.values()) {
      for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, seq), lte: withSeq(entityId, MAX_SEQ) })) {
        ops.push({ type: 'del', sublevel: this.storage.snapshots, key });
      }
    }
    for (let i = 0; i < ops.length; i += 10_000) await this.storage.db.batch(ops.slice(i, i + 10_000) as never, { sync: true });
    // Projections may have applied removed events: they are rebuilt from scratch on this start.
    if (removed.length > 0) {
      await this.storage.offsets.clear();
      await this.storage.projections.clear(); // every projection's rows: nested sublevels share the range

    }
    this.lastOffset = Math.min(this.lastOffset, fromOffset - 1);
    return removed.length;
  }

  private async verifyGlobalEntries(entries: Array<[number, Buffer]>): Promise<void> {
    if (entries.length === 0) return;
    const values = await this.storage.journal.getMany(entries.map(([, key]) => key));
    entries.forEach(([offset, key], i) => {
      const { ref, length } = decodeEntityId(key);
      const seq = readUint64BE(key, length);
      const value = values[i];
      if (value === undefined) throw new JournalCorruptError(ref, seq, 'the record is missing', offset);
      this.decodeAt(key.subarray(0, length), seq, value, offset);
    });
  }
}
