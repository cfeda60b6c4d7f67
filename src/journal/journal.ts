import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { CacheEvent, CacheState } from '../domain';
import { decodeEvent, decodeState, encodeEvent, encodeState } from './codec';
import { EntityRef, MAX_SEQ, decodeEntityId, readUint64BE, uint64BE, withSeq } from './keys';
import { Storage } from './storage';

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
  constructor(cause: unknown) {
    super(`the journal could not be written: ${(cause as Error)?.message ?? String(cause)}`);
  }
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

const SNAPSHOTS_KEPT = 2;
const GLOBAL_READ_CHUNK = 512;

/**
 * The LevelDB event journal. Appends are group-committed: every append waiting when a
 * write starts goes into one batch, written with `sync` (by default); promises resolve
 * only once that batch is on disk, and then the envelopes are published on `committed$`.
 */
export class Journal {
  private readonly logger = new Logger('Journal');
  /** Committed events, in global offset order, one array per group commit. */
  readonly committed$ = new Subject<readonly Envelope[]>();
  private pending: PendingAppend[] = [];
  private writing = false;
  private scheduled = false;
  private lastOffset = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly storage: Storage,
    private readonly sync: SyncPolicy = 'always',
  ) {}

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
    const ops: Array<{ type: 'put'; sublevel: Storage['journal']; key: Buffer; value: Buffer }> = [];
    const results: Envelope[][] = [];
    let offset = this.lastOffset;
    for (const append of appends) {
      const envelopes: Envelope[] = [];
      append.events.forEach((event, i) => {
        const seq = append.firstSeq + i;
        const key = withSeq(append.entityId, seq);
        offset += 1;
        ops.push({ type: 'put', sublevel: this.storage.journal, key, value: encodeEvent(event) });
        ops.push({ type: 'put', sublevel: this.storage.global, key: uint64BE(offset), value: key });
        envelopes.push({ ref: append.ref, entityId: append.entityId, seq, offset, event });
      });
      results.push(envelopes);
    }
    try {
      await this.storage.db.batch(ops as never, { sync: this.sync === 'always' });
      this.lastOffset = offset;
      appends.forEach((append, i) => append.resolve(results[i]));
      this.committed$.next(results.flat());
    } catch (cause) {
      const error = new JournalUnavailableError(cause);
      this.logger.error(error.message);
      for (const append of appends) append.reject(error);
    }
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
        return [{ ref, entityId, seq, offset, event: this.decodeAt(entityId, seq, value) }];
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
    const stale = older.slice(SNAPSHOTS_KEPT - 1);
    if (stale.length > 0) await this.storage.snapshots.batch(stale.map((key) => ({ type: 'del' as const, key })));
  }

  /**
   * The newest readable snapshot with `seq <= maxSeq`. An unreadable one is reported loudly
   * and skipped, so recovery falls back to an older snapshot or to a full replay.
   */
  async loadSnapshot(entityId: Buffer, maxSeq = MAX_SEQ): Promise<SnapshotRecord | undefined> {
    for await (const [key, value] of this.storage.snapshots.iterator({ gte: withSeq(entityId, 0), lte: withSeq(entityId, maxSeq), reverse: true })) {
      const seq = readUint64BE(key, entityId.length);
      try {
        return { seq, state: decodeState(value) };
      } catch (error) {
        const { ref } = decodeEntityId(entityId);
        this.logger.warn(`snapshot of ${JSON.stringify(ref)} at seq ${seq} is unreadable (${(error as Error).message}); falling back`);
      }
    }
    return undefined;
  }

  private decodeAt(entityId: Buffer, seq: number, value: Uint8Array): CacheEvent {
    try {
      return decodeEvent(value);
    } catch (error) {
      const { ref } = decodeEntityId(entityId);
      (error as Error).message = `journal record ${JSON.stringify(ref)} seq ${seq}: ${(error as Error).message}`;
      throw error;
    }
  }
}

