import { Logger } from '@nestjs/common';
import { CacheEvent } from '../../domain';
import { encodeEvent } from '../codec';
import { Envelope, HistoryGoneError, Journal, JournalRecord, JournalSequenceConflictError, JournalUnavailableError, ReplayLimitError, SyncPolicy } from '../journal';
import { EntityRef, MAX_SEQ, decodeEntityId, entityIdOf, readUint64BE, uint64BE, withSeq } from '../keys';
import { LevelDbInlineReadModels, RawOp, eventDiskBytes } from './leveldb-inline-read-models';
import { decodeRecord, frameEvent } from './record';
import { nextGroup, valueBytes } from './commit-order';
import { Storage, Sublevel } from './storage';

interface PendingAppend {
  readonly ref: EntityRef;
  readonly entityId: Buffer;
  /** `entityId` as a map key (latin1 keeps every byte: injective). */
  readonly idKey: string;
  readonly expectedSeq: number;
  readonly events: readonly CacheEvent[];
  readonly resolve: (envelopes: Envelope[]) => void;
  readonly reject: (error: Error) => void;
  /** Bytes of values (commit-order.ts: large appends wait while small ones do). */
  readonly bytes: number;
  passedOver: number;
}

type Op = { type: 'put'; sublevel: Sublevel; key: Buffer; value: Buffer } | { type: 'del'; sublevel: Sublevel; key: Buffer };

const GLOBAL_READ_CHUNK = 512;
const REPLAY_CHUNK = 4096;
const WRITE_CHUNK = 10_000;
export const COMPACTED_PREFIX = Buffer.from('compacted:');
/** A drop in progress: [u64 seq scanned through before it, u64 seq it drops through]; deleted when it is done. */
export const COMPACTING_PREFIX = Buffer.from('compacting:');

/**
 * The LevelDB event journal. Appends are group-committed: the appends waiting when a write
 * starts go into one batch (all of them, but that large ones wait a little while small ones
 * do: commit-order.ts), written with `sync` (by default); promises resolve
 * only once that batch is on disk, and then the envelopes go out to followers. The batch
 * also carries each event's offset row (its journal key → global offset) and the inline
 * read models' rows: one write per group commit, keys built with their key space's prefix.
 */
export class LevelDbJournal extends Journal {
  private readonly logger = new Logger('Journal');
  private pending: PendingAppend[] = [];
  private writing = false;
  private scheduled = false;
  private lastOffset = 0;
  private idle: Array<() => void> = [];
  /** Each entity's committed seq, once known (the single-writer check is in memory). */
  private readonly seqs = new Map<string, number>();
  private lastFault: unknown;
  readonly inline: LevelDbInlineReadModels;
  private readonly prefix: { journal: Buffer; global: Buffer; eventOffsets: Buffer };

  constructor(
    private readonly storage: Storage,
    private readonly sync: SyncPolicy = 'always',
    rowCacheEntries?: number,
  ) {
    super();
    this.inline = new LevelDbInlineReadModels(storage, (after) => this.read(after), (fn) => this.exclusive(fn), rowCacheEntries);
    const prefix = (sublevel: Sublevel) => Buffer.from(sublevel.prefix, 'utf8');
    this.prefix = { journal: prefix(storage.journal), global: prefix(storage.global), eventOffsets: prefix(storage.eventOffsets) };
  }

  /** Reads where the log ends; builds the inline rows of a log written before they were inline. */
  async open(): Promise<void> {
    this.lastOffset = 0;
    this.seqs.clear();
    for await (const key of this.storage.global.keys({ reverse: true, limit: 1 })) this.lastOffset = readUint64BE(key, 0);
    await this.inline.open();
  }

  /** Forgets what it knew of the log (after a repair cut it). */
  async reload(): Promise<void> {
    await this.open();
  }

  /** Ends the followers (the database is closing). */
  close(): void {
    this.endFollowers();
  }

  get highestOffset(): number {
    return this.lastOffset;
  }

  append(ref: EntityRef, expectedSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]> {
    const entityId = entityIdOf(ref);
    const idKey = entityId.toString('latin1');
    return new Promise((resolve, reject) => {
      const enqueue = () => {
        this.pending.push({ ref, entityId, idKey, expectedSeq, events, resolve, reject, bytes: valueBytes(events as ReadonlyArray<{ type: string; value?: Uint8Array }>), passedOver: 0 });
        if (!this.writing && !this.scheduled) {
          this.scheduled = true;
          setImmediate(() => void this.writeBatch());
        }
      };
      if (this.seqs.has(idKey)) return enqueue();
      // First append of this entity in this process: learn its seq from disk once.
      this.highestSeq(ref).then((seq) => {
        if (!this.seqs.has(idKey)) this.seqs.set(idKey, seq);
        enqueue();
      }, (cause) => reject(new JournalUnavailableError(cause)));
    });
  }

  /** Runs `fn` with no group commit being written; appends meanwhile wait for the next one. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.paused !== undefined) await this.paused;
    let resume!: () => void;
    this.paused = new Promise((resolve) => (resume = resolve));
    try {
      // The batch being written finishes; those queued after it wait for `fn`.
      while (this.writing) await new Promise((resolve) => setTimeout(resolve, 1));
      return await fn();
    } finally {
      this.paused = undefined;
      resume();
    }
  }

  private paused: Promise<void> | undefined;

  report(error: unknown): void {
    this.storage.healer.report(error);
  }

  whenIdle(): Promise<void> {
    if (!this.writing && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async writeBatch(): Promise<void> {
    if (this.paused !== undefined) {
      await this.paused;
      return this.writeBatch();
    }
    this.scheduled = false;
    this.writing = true;
    const { take: appends, rest } = nextGroup(this.pending);
    this.pending = rest;
    if (this.storage.healer.healing) {
      // The handle is being reopened: fail fast, leave the database alone.
      const error = new JournalUnavailableError(this.storage.healer.lastFault ?? this.lastFault);
      for (const append of appends) append.reject(error);
      this.finishBatch();
      return;
    }
    const prefix = this.prefix;
    const ops: RawOp[] = [];
    const all: Envelope[] = [];
    const sizes: number[] = [];
    const accepted: Array<{ append: PendingAppend; envelopes: Envelope[] }> = [];
    const tentative = new Map<string, number>();
    let offset = this.lastOffset;
    for (const append of appends) {
      const current = tentative.get(append.idKey) ?? this.seqs.get(append.idKey) ?? 0;
      if (current !== append.expectedSeq) {
        append.reject(new JournalSequenceConflictError(append.ref, append.expectedSeq, current));
        continue;
      }
      const envelopes: Envelope[] = [];
      append.events.forEach((event, i) => {
        const seq = append.expectedSeq + 1 + i;
        const key = withSeq(append.entityId, seq);
        const offsetKey = uint64BE(++offset);
        const record = frameEvent(event);
        sizes.push(eventDiskBytes(key.length, record.length));
        ops.push({ type: 'put', key: Buffer.concat([prefix.journal, key]), value: record });
        ops.push({ type: 'put', key: Buffer.concat([prefix.global, offsetKey]), value: key });
        ops.push({ type: 'put', key: Buffer.concat([prefix.eventOffsets, key]), value: offsetKey });
        const envelope = { ref: append.ref, entityId: append.entityId, seq, offset, event };
        envelopes.push(envelope);
        all.push(envelope);
      });
      tentative.set(append.idKey, append.expectedSeq + append.events.length);
      accepted.push({ append, envelopes });
    }
    try {
      const inlineWritten = all.length > 0 ? await this.inline.opsFor(all, ops, sizes) : () => undefined;
      const startedAt = performance.now();
      if (ops.length > 0) await this.storage.db.batch(ops as never, { sync: this.sync === 'always' });
      this.commitSeconds$.next((performance.now() - startedAt) / 1000);
      inlineWritten();
      this.lastOffset = offset;
      for (const [idKey, seq] of tentative) this.seqs.set(idKey, seq);
      for (const { append, envelopes } of accepted) append.resolve(envelopes);
      if (accepted.length > 0) this.committed.next(accepted.length === 1 ? accepted[0].envelopes : accepted.flatMap((a) => a.envelopes));
    } catch (cause) {
      const error = new JournalUnavailableError(cause);
      this.logger.error(`a journal write failed: ${(cause as Error)?.message ?? String(cause)}`);
      this.lastFault = cause;
      this.inline.forget(); // the batch may or may not be on disk: cached rows are reread
      this.storage.healer.failed(cause); // a failed write poisons LevelDB's handle until it is reopened
      for (const { append } of accepted) append.reject(error);
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

  async *replay(ref: EntityRef, fromSeq = 1, toSeq = MAX_SEQ): AsyncGenerator<JournalRecord> {
    const entityId = entityIdOf(ref);
    const iterator = this.storage.journal.iterator({ gte: withSeq(entityId, fromSeq), lte: withSeq(entityId, toSeq) });
    try {
      for await (const [key, value] of iterator) {
        const seq = readUint64BE(key, entityId.length);
        yield { seq, event: decodeRecord(entityId, seq, value), storedBytes: eventDiskBytes(key.length, value.length) };
      }
    } finally {
      await iterator.close();
    }
  }

  async forEachEvent(ref: EntityRef, fromSeq: number, visit: (seq: number, event: CacheEvent) => void): Promise<void> {
    const entityId = entityIdOf(ref);
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
          visit(seq, decodeRecord(entityId, seq, value));
        }
      }
    } catch (error) {
      await next?.catch(() => undefined);
      throw error;
    } finally {
      await iterator.close();
    }
  }

  async highestSeq(ref: EntityRef): Promise<number> {
    const entityId = entityIdOf(ref);
    for await (const key of this.storage.journal.keys({ gte: withSeq(entityId, 0), lte: withSeq(entityId, MAX_SEQ), reverse: true, limit: 1 })) {
      return readUint64BE(key, entityId.length);
    }
    return 0;
  }

  /** Scans backwards from the newest event, so recent points are cheap. */
  async seqAtTime(ref: EntityRef, time: number, maxEvents = Infinity): Promise<number> {
    const entityId = entityIdOf(ref);
    const iterator = this.storage.journal.iterator({ gte: withSeq(entityId, 0), lte: withSeq(entityId, MAX_SEQ), reverse: true });
    let later: number | undefined;
    let scanned = 0;
    try {
      for await (const [key, value] of iterator) {
        if (++scanned > maxEvents) throw new ReplayLimitError(maxEvents);
        const seq = readUint64BE(key, entityId.length);
        if (decodeRecord(entityId, seq, value).at <= time) {
          if (later !== undefined && later !== seq + 1) throw new HistoryGoneError(`the journal around ${new Date(time).toISOString()} was compacted away`);
          return seq;
        }
        later = seq;
      }
    } finally {
      await iterator.close();
    }
    if (later !== undefined && later !== 1) throw new HistoryGoneError(`the journal before ${new Date(time).toISOString()} was compacted away`);
    return 0;
  }

  async offsetsOf(ref: EntityRef, seqs: readonly number[]): Promise<Array<number | undefined>> {
    if (seqs.length === 0) return [];
    const entityId = entityIdOf(ref);
    const values = await this.storage.eventOffsets.getMany(seqs.map((seq) => withSeq(entityId, seq)));
    return values.map((value) => (value === undefined ? undefined : readUint64BE(value, 0)));
  }

  /** Every cache with a compaction mark, and the seq it was compacted through. */
  async *compactedCaches(): AsyncIterable<{ ref: EntityRef; through: number }> {
    const end = Buffer.from(COMPACTED_PREFIX);
    end[end.length - 1]++;
    for await (const [key, value] of this.storage.meta.iterator({ gte: COMPACTED_PREFIX, lt: end })) {
      yield { ref: decodeEntityId(key.subarray(COMPACTED_PREFIX.length)).ref, through: readUint64BE(value, 0) };
    }
  }

  async compactedThrough(ref: EntityRef): Promise<number> {
    const value = await this.storage.meta.get(Buffer.concat([COMPACTED_PREFIX, entityIdOf(ref)]));
    return value ? readUint64BE(value, 0) : 0;
  }

  override async unfinishedCompaction(ref: EntityRef): Promise<number> {
    return (await this.pendingDrop(entityIdOf(ref)))?.through ?? 0;
  }

  private async pendingDrop(entityId: Buffer): Promise<{ from: number; through: number } | undefined> {
    const value = await this.storage.meta.get(Buffer.concat([COMPACTING_PREFIX, entityId]));
    return value === undefined ? undefined : { from: readUint64BE(value, 0), through: readUint64BE(value, 8) };
  }

  /**
   * The marks are written first, in one synced batch: `compacted` (history through it may be
   * incomplete, so a crash half-way leaves a log that is valid, only less compacted) and
   * `compacting` (the drop is unfinished). The second goes once every batch is written; a drop
   * cut short by a crash is resumed by the next one (from where the unfinished one started, to
   * the furthest of both), which `unfinishedCompaction` makes compaction call even without a
   * newer cut. Each dropped event's global-index and offset rows go with it.
   */
  async dropEvents(ref: EntityRef, beforeSeq: number, keep: ReadonlySet<number>, onProgress?: (dropped: number) => void, storedBytes?: ReadonlyMap<number, number>): Promise<number> {
    const entityId = entityIdOf(ref);
    const before = await this.compactedThrough(ref);
    const pending = await this.pendingDrop(entityId);
    if (beforeSeq - 1 <= before && pending === undefined) return 0;
    const from = pending?.from ?? before;
    const through = Math.max(beforeSeq - 1, pending?.through ?? 0);
    const compactingKey = Buffer.concat([COMPACTING_PREFIX, entityId]);
    const marks: Op[] = [
      { type: 'put', sublevel: this.storage.meta, key: Buffer.concat([COMPACTED_PREFIX, entityId]), value: uint64BE(Math.max(before, through)) },
      { type: 'put', sublevel: this.storage.meta, key: compactingKey, value: Buffer.concat([uint64BE(from), uint64BE(through)]) },
    ];
    await this.storage.db.batch(marks as never, { sync: true });
    let dropped = 0;
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    // Events whose weight replay did not tell are read for it (a 1 MiB value each, otherwise).
    let unweighed: Buffer[] = [];
    const flush = async () => {
      if (unweighed.length > 0) {
        const values = await this.storage.journal.getMany(unweighed);
        values.forEach((value, i) => value !== undefined && (chunkBytes += eventDiskBytes(unweighed[i].length, value.length)));
        unweighed = [];
      }
      const offsets = await this.storage.eventOffsets.getMany(chunk);
      const ops: Op[] = [];
      chunk.forEach((key, i) => {
        ops.push({ type: 'del', sublevel: this.storage.journal, key }, { type: 'del', sublevel: this.storage.eventOffsets, key });
        const offset = offsets[i];
        if (offset !== undefined) ops.push({ type: 'del', sublevel: this.storage.global, key: offset });
      });
      // The journal bytes the dropped events weighed go in the same write; under the lock, so
      // no group commit adds to the same totals meanwhile (one chunk at a time: a short hold).
      const freed = chunkBytes;
      await this.exclusive(async () => {
        const raw: RawOp[] = [];
        const written = await this.inline.diskBytesOps(new Map([['', { ref, entityId, bytes: -freed }]]), raw);
        await this.storage.db.batch([...ops, ...raw] as never, { sync: true });
        written();
      });
      dropped += chunk.length;
      onProgress?.(dropped);
      chunk = [];
      chunkBytes = 0;
    };
    for await (const key of this.storage.journal.keys({ gte: withSeq(entityId, from + 1), lt: withSeq(entityId, beforeSeq) })) {
      const seq = readUint64BE(key, entityId.length);
      if (keep.has(seq)) continue;
      chunk.push(key);
      const weight = storedBytes?.get(seq);
      if (weight === undefined) unweighed.push(key);
      else chunkBytes += weight;
      if (chunk.length >= WRITE_CHUNK / 10) await flush();
    }
    if (chunk.length > 0) await flush();
    // Done through beforeSeq - 1; what an older unfinished drop meant beyond it stays pending.
    if (through > beforeSeq - 1) await this.storage.meta.put(compactingKey, Buffer.concat([uint64BE(beforeSeq - 1), uint64BE(through)]));
    else await this.storage.db.batch([{ type: 'del', sublevel: this.storage.meta, key: compactingKey }] as never, { sync: true });
    return dropped;
  }

  async *read(afterOffset: number): AsyncGenerator<Envelope[]> {
    let chunk: Array<{ offset: number; key: Buffer }> = [];
    const flush = async (): Promise<Envelope[]> => {
      const values = await this.storage.journal.getMany(chunk.map((c) => c.key));
      return chunk.flatMap(({ offset, key }, i) => {
        const value = values[i];
        if (value === undefined) return []; // compacted away
        const { ref, length } = decodeEntityId(key);
        const entityId = key.subarray(0, length);
        const seq = readUint64BE(key, length);
        return [{ ref, entityId, seq, offset, event: decodeRecord(entityId, seq, value, offset) }];
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
}
