import { CacheEvent, CacheState, evolve, evolveOnly, initialState } from '../domain';
import { HistoryGoneError, Journal, PointInTimeTooLargeError, ReplayLimitError } from './journal';
import { EntityRef } from './keys';
import { SnapshotStore } from './snapshot-store';

/**
 * Reading an entity's past through the journal port: its state at a sequence number, its
 * last event.
 */

export { HistoryGoneError, PointInTimeTooLargeError, ReplayLimitError };

export interface PointInTime {
  /** The sequence number the state is at (0: before the first event). */
  readonly seq: number;
  readonly state: CacheState;
  /** Time (ms) of event `seq`, for expiry checks "as it was then"; undefined when not known. */
  readonly time: number | undefined;
}

/**
 * The entity's state right after event `seq`: the nearest readable snapshot at or before
 * `seq`, then the events after it up to `seq`. Throws HistoryGoneError when the events in
 * between were compacted away, ReplayLimitError when more than `maxEvents` would be replayed,
 * PointInTimeTooLargeError when the snapshot is stored larger than `maxBytes` (before it is
 * decoded) or the state it grows to by the replayed values passes `maxBytes`. With `only`, the
 * state holds those keys' entries alone (evolveOnly): the rest of the snapshot is checked, not
 * copied, and the replay keeps no other key's value.
 */
export async function stateAt(journal: Journal, snapshots: SnapshotStore, ref: EntityRef, seq: number, maxEvents = Infinity, maxBytes = Infinity, only?: ReadonlySet<string>): Promise<PointInTime> {
  const snapshot = seq > 0 ? await snapshots.load(ref, seq, maxBytes, only) : undefined;
  const state = snapshot?.state ?? initialState();
  let at = snapshot?.seq ?? 0;
  // Refused before the first event is read: the cost is known from the snapshot's position.
  if (seq - at > maxEvents) throw new ReplayLimitError(maxEvents);
  let time: number | undefined;
  for await (const record of journal.replay(ref, at + 1, seq)) {
    if (record.seq !== at + 1) throw new HistoryGoneError(`events ${at + 1} to ${record.seq - 1} were compacted away`);
    if (only) evolveOnly(state, record.event, only);
    else evolve(state, record.event);
    if (state.bytes > maxBytes) throw new PointInTimeTooLargeError(maxBytes, state.bytes);
    at = record.seq;
    time = record.event.at;
  }
  if (at !== seq) throw new HistoryGoneError(`events ${at + 1} to ${seq} are not in the journal`);
  if (time === undefined && seq > 0) time = (await eventAt(journal, ref, seq))?.at;
  return { seq, state, time };
}

export async function eventAt(journal: Journal, ref: EntityRef, seq: number): Promise<CacheEvent | undefined> {
  for await (const record of journal.replay(ref, seq, seq)) return record.event;
  return undefined;
}

/** The newest event of the entity, with its sequence number. */
export async function lastEvent(journal: Journal, ref: EntityRef): Promise<{ seq: number; event: CacheEvent } | undefined> {
  const seq = await journal.highestSeq(ref);
  if (seq === 0) return undefined;
  const event = await eventAt(journal, ref, seq);
  return event && { seq, event };
}
