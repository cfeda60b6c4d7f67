import { Observable, Subject } from 'rxjs';
import { CacheEvent } from '../domain';
import { EntityRef } from './keys';
import { describeStorageFault } from './storage-fault';

/**
 * The journal port. Entities, projections, history and tasks talk to this, never to a
 * storage engine's key spaces. Implementations live in their own folders (`leveldb/`, the
 * embedded default; `memory/`, for fast tests) and all pass `test/contract/`.
 *
 * Shaped so that a distributed log fits: an append names the sequence it expects the
 * entity to be at (the single-writer check a shared log needs), the global stream is an
 * Observable with catch-up then live, and snapshots are a separate store.
 */

/** A committed event with its place in the entity's history and in the global log. */
/** `offset` increases with the global log; the embedded journals number it 1, 2, …, NATS leaves gaps. */
export interface Envelope {
  readonly ref: EntityRef;
  /** The entity's collision-free binary id (`encodeEntityId(ref)`), for read-model row keys. */
  readonly entityId: Buffer;
  readonly seq: number;
  readonly offset: number;
  readonly event: CacheEvent;
}

/** One event of an entity, as replay gives it. */
export interface JournalRecord {
  readonly seq: number;
  readonly event: CacheEvent;
  /** What the event weighs in the journal's bytes (LevelDB: its record and index rows), when the journal tells. */
  readonly storedBytes?: number;
}

export type SyncPolicy = 'always' | 'none';

export class JournalUnavailableError extends Error {
  readonly code: 'JOURNAL_UNAVAILABLE' | 'JOURNAL_CONTENDED' = 'JOURNAL_UNAVAILABLE';
  constructor(
    readonly cause: unknown,
    message?: string,
  ) {
    // The cause's message may name server paths: only its kind goes to clients (the log has it all).
    super(message ?? `the journal could not be written (${describeStorageFault(cause)}); writes resume by themselves once storage is back`);
  }
}

/** A shared journal: other nodes kept writing to the cache first through every retry of this write (503). */
export class JournalContendedError extends JournalUnavailableError {
  override readonly code = 'JOURNAL_CONTENDED';
  constructor(ref: EntityRef, attempts: number) {
    super(undefined, `other nodes wrote to cache ${JSON.stringify(ref.name)} first ${attempts} times in a row; retry`);
  }
}

/** An append named a sequence the entity is not at: another writer went first. */
export class JournalSequenceConflictError extends Error {
  readonly code = 'JOURNAL_SEQUENCE_CONFLICT';
  constructor(
    readonly ref: EntityRef,
    readonly expectedSeq: number,
    readonly actualSeq: number,
  ) {
    super(`append to ${JSON.stringify(ref)} expected seq ${expectedSeq}, the journal is at ${actualSeq}`);
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

/** Asked for history that compaction dropped. */
export class HistoryGoneError extends Error {
  readonly code = 'HISTORY_COMPACTED';
}

/** A point-in-time read that would scan or replay more events than its caller allows. */
export class ReplayLimitError extends Error {
  readonly code = 'POINT_IN_TIME_TOO_COSTLY';
  constructor(readonly maxEvents: number) {
    super(`this point in time would take more than ${maxEvents} events to read (POINT_IN_TIME_MAX_EVENTS); ask for a point nearer the present or a snapshot`);
  }
}

/**
 * A point-in-time read that would decode more bytes than its caller allows (the snapshot it
 * starts from, by its stored size before it is decoded, plus the values it replays).
 */
export class PointInTimeTooLargeError extends Error {
  readonly code = 'POINT_IN_TIME_TOO_LARGE';
  constructor(
    readonly maxBytes: number,
    readonly bytes: number,
  ) {
    super(`this point in time would decode ${bytes} bytes or more of the cache's state; POINT_IN_TIME_MAX_BYTES is ${maxBytes} (ask an operator, or read the present)`);
  }
}

/**
 * The seq of a cache's newest event at or before `time`, from its events in seq order with
 * their times (journals that hold a cache's whole timeline): 0 before the first event; a
 * gap in the seqs around the answer means compaction removed that point.
 */
export function seqAtTimeIn(timeline: ReadonlyArray<{ readonly seq: number; readonly at: number }>, time: number, maxEvents = Infinity): number {
  let later: number | undefined;
  for (let i = timeline.length - 1; i >= 0; i--) {
    if (timeline.length - i > maxEvents) throw new ReplayLimitError(maxEvents);
    const { seq, at } = timeline[i];
    if (at <= time) {
      if (later !== undefined && later !== seq + 1) throw new HistoryGoneError(`the journal around ${new Date(time).toISOString()} was compacted away`);
      return seq;
    }
    later = seq;
  }
  if (later !== undefined && later !== 1) throw new HistoryGoneError(`the journal before ${new Date(time).toISOString()} was compacted away`);
  return 0;
}

export abstract class Journal {
  /** Every group commit's envelopes, in global order, once durable. Implementations push here. */
  protected readonly committed = new Subject<readonly Envelope[]>();
  /** Seconds each group commit took to write, fsync included (for the metrics; implementations that time it push here). */
  readonly commitSeconds$ = new Subject<number>();

  /** Commits from now on, without catch-up: for observers that only count, like the metrics. */
  get liveCommits$(): Observable<readonly Envelope[]> {
    return this.committed.asObservable();
  }

  /**
   * True for a journal other processes append to as well (NATS): entities then follow it
   * for other nodes' events and catch up on a sequence conflict.
   */
  get shared(): boolean {
    return false;
  }

  /** The global offset of the newest committed event this process knows of. */
  abstract get highestOffset(): number;

  /**
   * Appends `events` as seqs `expectedSeq + 1, …`. Rejects with JournalSequenceConflictError
   * when the entity is not at `expectedSeq`, JournalUnavailableError when the write fails
   * (nothing of it is then committed). Resolves once the events are durable (per the sync
   * policy), with their envelopes.
   */
  abstract append(ref: EntityRef, expectedSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]>;

  /** The entity's events with `fromSeq <= seq <= toSeq`, in order (compacted ones are missing). */
  abstract replay(ref: EntityRef, fromSeq?: number, toSeq?: number): AsyncIterable<JournalRecord>;

  /** Visits the entity's events with `seq >= fromSeq` in order: recovery's hot loop (no promise per event). */
  abstract forEachEvent(ref: EntityRef, fromSeq: number, visit: (seq: number, event: CacheEvent) => void): Promise<void>;

  /** The entity's newest sequence number (0: no event). */
  abstract highestSeq(ref: EntityRef): Promise<number>;

  /**
   * The seq of the newest event decided at or before `time` (ms), 0 before the first.
   * Throws HistoryGoneError when compaction makes the answer uncertain, ReplayLimitError
   * when more than `maxEvents` events would be scanned.
   */
  abstract seqAtTime(ref: EntityRef, time: number, maxEvents?: number): Promise<number>;

  /** Global offsets of the entity's events (undefined where not known, e.g. compacted). */
  abstract offsetsOf(ref: EntityRef, seqs: readonly number[]): Promise<Array<number | undefined>>;

  /**
   * Compaction: drops the entity's events with `seq < beforeSeq` except those in `keep`,
   * and records that history before `beforeSeq` may be incomplete. Returns how many were dropped.
   * A journal that stores an append as one record (NATS: one message per group) drops a record
   * only when every event in it may go, so it may keep more than asked, never less.
   * `storedBytes`: what replay told of events' weights, so a journal that counts the bytes it
   * frees need not read those events again.
   */
  abstract dropEvents(ref: EntityRef, beforeSeq: number, keep: ReadonlySet<number>, onProgress?: (dropped: number) => void, storedBytes?: ReadonlyMap<number, number>): Promise<number>;

  /** Every event with `seq <= compactedThrough` may have been dropped (0: nothing compacted). */
  abstract compactedThrough(ref: EntityRef): Promise<number>;

  /**
   * The seq through which a compaction that was cut short (a crash part-way through
   * `dropEvents`) meant to drop events, 0 when none was: the next compaction finishes it.
   * Journals whose drop is one atomic step have none.
   */
  async unfinishedCompaction(ref: EntityRef): Promise<number> {
    void ref;
    return 0;
  }

  /** Committed events with offset > `afterOffset`, in global order, in chunks, read at the caller's pace. */
  abstract read(afterOffset: number): AsyncIterable<readonly Envelope[]>;

  /** Resolves once every append handed in so far is written (or failed). */
  abstract whenIdle(): Promise<void>;

  /**
   * A storage operation failed with `error` (a read anywhere, or a write on its way to a
   * client): an implementation that can heal its storage starts to (the LevelDB one reopens
   * its handle when the error is a storage fault); others ignore it.
   */
  report(error: unknown): void {
    void error;
  }

  /**
   * Committed envelopes with offset > `afterOffset`, in global order: first those already
   * in the log, then live ones as they commit. The live stream is taken before the log is
   * read and the two are joined by offset, so the hand-over loses and repeats nothing.
   * Catch-up is not paced by the subscriber: a consumer far behind reads with `read()` first.
   */
  follow(afterOffset: number): Observable<readonly Envelope[]> {
    return new Observable<readonly Envelope[]>((subscriber) => {
      let last = afterOffset;
      let buffered: Array<readonly Envelope[]> | undefined = [];
      let cancelled = false;
      const emit = (batch: readonly Envelope[]) => {
        let from = 0;
        while (from < batch.length && batch[from].offset <= last) from++;
        if (from === batch.length) return;
        const fresh = from === 0 ? batch : batch.slice(from);
        last = fresh[fresh.length - 1].offset;
        subscriber.next(fresh);
      };
      const live = this.committed.subscribe({
        next: (batch) => (buffered !== undefined ? buffered.push(batch) : emit(batch)),
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      void (async () => {
        for await (const chunk of this.read(afterOffset)) {
          if (cancelled) return;
          emit(chunk);
        }
        const pending = buffered ?? [];
        buffered = undefined;
        for (const batch of pending) emit(batch);
      })().catch((error) => subscriber.error(error));
      return () => {
        cancelled = true;
        live.unsubscribe();
      };
    });
  }

  /** Ends every follower (the journal is closing). */
  protected endFollowers(): void {
    this.committed.complete();
  }
}
