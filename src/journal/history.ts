import { CacheEvent, CacheState, evolve, initialState } from '../domain';
import { Journal } from './journal';
import { MAX_SEQ, readUint64BE, uint64BE, withSeq } from './keys';
import { Storage } from './storage';

/**
 * Reading an entity's past: its state at a sequence number or a time, its last event, and
 * how far its journal was compacted. Functions over Storage/Journal, so the journal's
 * write path stays untouched.
 */

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

export interface PointInTime {
  /** The sequence number the state is at (0: before the first event). */
  readonly seq: number;
  readonly state: CacheState;
  /** Time (ms) of event `seq`, for expiry checks "as it was then"; undefined when not known. */
  readonly time: number | undefined;
}

const COMPACTED_PREFIX = Buffer.from('compacted:');

export function compactionKey(entityId: Buffer): Buffer {
  return Buffer.concat([COMPACTED_PREFIX, entityId]);
}

/** Every event with `seq <= compactedThrough` may have been dropped (0: nothing compacted). */
export async function compactedThrough(storage: Storage, entityId: Buffer): Promise<number> {
  const value = await storage.meta.get(compactionKey(entityId));
  return value ? readUint64BE(value, 0) : 0;
}

export function compactionMark(entityId: Buffer, seq: number): { key: Buffer; value: Buffer } {
  return { key: compactionKey(entityId), value: uint64BE(seq) };
}

/**
 * The entity's state right after event `seq`: the nearest readable snapshot at or before
 * `seq`, then the events after it up to `seq`. Throws HistoryGoneError when the events in
 * between were compacted away.
 */
export async function stateAt(journal: Journal, entityId: Buffer, seq: number, maxEvents = Infinity): Promise<PointInTime> {
  const snapshot = seq > 0 ? await journal.loadSnapshot(entityId, seq) : undefined;
  const state = snapshot?.state ?? initialState();
  let at = snapshot?.seq ?? 0;
  // Refused before the first event is read: the cost is known from the snapshot's position.
  if (seq - at > maxEvents) throw new ReplayLimitError(maxEvents);
  let time: number | undefined;
  for await (const record of journal.replay(entityId, at + 1, seq)) {
    if (record.seq !== at + 1) throw new HistoryGoneError(`events ${at + 1} to ${record.seq - 1} were compacted away`);
    evolve(state, record.event);
    at = record.seq;
    time = record.event.at;
  }
  if (at !== seq) throw new HistoryGoneError(`events ${at + 1} to ${seq} are not in the journal`);
  if (time === undefined && seq > 0) time = (await eventAt(journal, entityId, seq))?.at;
  return { seq, state, time };
}

/**
 * Decodes a stored journal value exactly as the journal does (record framing and checksums
 * are the journal's business), through its `decodeAt`.
 */
export function decodeStored(journal: Journal, entityId: Buffer, seq: number, value: Uint8Array): CacheEvent {
  return journal.decodeAt(entityId, seq, value);
}

export async function eventAt(journal: Journal, entityId: Buffer, seq: number): Promise<CacheEvent | undefined> {
  for await (const record of journal.replay(entityId, seq, seq)) return record.event;
  return undefined;
}

/** The newest event of the entity, with its sequence number. */
export async function lastEvent(journal: Journal, entityId: Buffer): Promise<{ seq: number; event: CacheEvent } | undefined> {
  const seq = await journal.highestSeq(entityId);
  if (seq === 0) return undefined;
  const event = await eventAt(journal, entityId, seq);
  return event && { seq, event };
}

/**
 * The sequence number of the newest event decided at or before `time` (ms), 0 if the
 * cache had no event yet. Scans backwards from the newest event, so recent points are
 * cheap. Throws HistoryGoneError when compaction makes the answer uncertain.
 */
export async function seqAtTime(journal: Journal, storage: Storage, entityId: Buffer, time: number, maxEvents = Infinity): Promise<number> {
  const iterator = storage.journal.iterator({ gte: withSeq(entityId, 0), lte: withSeq(entityId, MAX_SEQ), reverse: true });
  let later: number | undefined;
  let scanned = 0;
  try {
    for await (const [key, value] of iterator) {
      if (++scanned > maxEvents) throw new ReplayLimitError(maxEvents);
      const seq = readUint64BE(key, entityId.length);
      if (decodeStored(journal, entityId, seq, value).at <= time) {
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
