import { CacheEvent } from '../../domain';
import { Envelope, Journal, JournalRecord, JournalSequenceConflictError, seqAtTimeIn } from '../journal';
import { EntityRef, MAX_SEQ, entityIdOf } from '../keys';
import { MemoryInlineReadModels } from './memory-inline-read-models';

interface Stored {
  readonly seq: number;
  readonly offset: number;
  readonly event: CacheEvent;
}

interface EntityLog {
  /** Events in seq order; compaction removes some from the front part. */
  events: Stored[];
  seq: number;
  compactedThrough: number;
}

const READ_CHUNK = 512;

/**
 * The journal in memory: for fast tests and `JOURNAL=memory` (nothing survives the
 * process). Appends commit on the next tick, together, like a group commit.
 */
export class MemoryJournal extends Journal {
  private readonly entities = new Map<string, EntityLog>();
  /** Global log by offset - 1; undefined where compacted. */
  private readonly global: Array<Envelope | undefined> = [];
  private pending: Array<{ ref: EntityRef; expectedSeq: number; events: readonly CacheEvent[]; resolve: (e: Envelope[]) => void; reject: (e: Error) => void }> = [];
  private scheduled = false;
  private idle: Array<() => void> = [];
  /** Applied as each event commits, like the LevelDB journal's rows in its batch. */
  readonly inline = new MemoryInlineReadModels(() => this.global.filter((e): e is Envelope => e !== undefined));

  get highestOffset(): number {
    return this.global.length;
  }

  private log(ref: EntityRef, create = false): EntityLog | undefined {
    const key = entityIdOf(ref).toString('latin1');
    let log = this.entities.get(key);
    if (log === undefined && create) this.entities.set(key, (log = { events: [], seq: 0, compactedThrough: 0 }));
    return log;
  }

  append(ref: EntityRef, expectedSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ref, expectedSeq, events, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.commit());
      }
    });
  }

  private commit(): void {
    this.scheduled = false;
    const appends = this.pending;
    this.pending = [];
    const batch: Envelope[] = [];
    for (const append of appends) {
      const log = this.log(append.ref, true)!;
      if (log.seq !== append.expectedSeq) {
        append.reject(new JournalSequenceConflictError(append.ref, append.expectedSeq, log.seq));
        continue;
      }
      const entityId = entityIdOf(append.ref);
      const envelopes = append.events.map((event, i) => {
        const envelope: Envelope = { ref: { org: append.ref.org, name: append.ref.name }, entityId, seq: log.seq + 1 + i, offset: this.global.length + 1, event };
        this.global.push(envelope);
        this.inline.apply(envelope);
        log.events.push({ seq: envelope.seq, offset: envelope.offset, event });
        return envelope;
      });
      log.seq += append.events.length;
      append.resolve(envelopes);
      batch.push(...envelopes);
    }
    if (batch.length > 0) this.committed.next(batch);
    for (const resolve of this.idle.splice(0)) resolve();
  }

  whenIdle(): Promise<void> {
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async *replay(ref: EntityRef, fromSeq = 1, toSeq = MAX_SEQ): AsyncGenerator<JournalRecord> {
    for (const { seq, event } of this.log(ref)?.events ?? []) {
      if (seq > toSeq) return;
      if (seq >= fromSeq) yield { seq, event };
    }
  }

  async forEachEvent(ref: EntityRef, fromSeq: number, visit: (seq: number, event: CacheEvent) => void): Promise<void> {
    for (const { seq, event } of this.log(ref)?.events ?? []) if (seq >= fromSeq) visit(seq, event);
  }

  async highestSeq(ref: EntityRef): Promise<number> {
    return this.log(ref)?.seq ?? 0;
  }

  async seqAtTime(ref: EntityRef, time: number, maxEvents = Infinity): Promise<number> {
    return seqAtTimeIn((this.log(ref)?.events ?? []).map(({ seq, event }) => ({ seq, at: event.at })), time, maxEvents);
  }

  async offsetsOf(ref: EntityRef, seqs: readonly number[]): Promise<Array<number | undefined>> {
    const bySeq = new Map((this.log(ref)?.events ?? []).map((e) => [e.seq, e.offset]));
    return seqs.map((seq) => bySeq.get(seq));
  }

  async compactedThrough(ref: EntityRef): Promise<number> {
    return this.log(ref)?.compactedThrough ?? 0;
  }

  async dropEvents(ref: EntityRef, beforeSeq: number, keep: ReadonlySet<number>, onProgress?: (dropped: number) => void): Promise<number> {
    const log = this.log(ref);
    if (log === undefined || beforeSeq - 1 <= log.compactedThrough) return 0;
    log.compactedThrough = beforeSeq - 1;
    const kept: Stored[] = [];
    let dropped = 0;
    for (const stored of log.events) {
      if (stored.seq < beforeSeq && !keep.has(stored.seq)) {
        this.global[stored.offset - 1] = undefined;
        dropped++;
      } else kept.push(stored);
    }
    log.events = kept;
    onProgress?.(dropped);
    return dropped;
  }

  async *read(afterOffset: number): AsyncGenerator<Envelope[]> {
    for (let from = afterOffset; from < this.global.length; from += READ_CHUNK) {
      const chunk = this.global.slice(from, from + READ_CHUNK).filter((e): e is Envelope => e !== undefined);
      yield chunk;
    }
  }

  /** Ends the followers. */
  close(): void {
    this.endFollowers();
  }
}
