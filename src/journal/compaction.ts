import { RetentionPolicy } from '../config/config';
import { compactedThrough, compactionMark } from './history';
import { Journal } from './journal';
import { MAX_SEQ, readUint64BE, uint64BE, withSeq } from './keys';
import { Storage } from './storage';

export interface CompactionResult {
  /** Events with `seq <= throughSeq` were considered (0: nothing to do). */
  readonly throughSeq: number;
  readonly dropped: number;
  /** Events at or before `throughSeq` kept because their effect is still in the state there. */
  readonly kept: number;
  readonly note?: string;
}

/** Looks up the global offsets of journal keys (the event-offsets projection). */
export type OffsetLookup = (journalKeys: Buffer[]) => Promise<Array<number | undefined>>;

const DAY_MS = 86_400_000;
const CHUNK = 1000;

/** Sequence numbers of the entity's snapshots, newest first. */
export async function snapshotSeqs(storage: Storage, entityId: Buffer): Promise<number[]> {
  const seqs: number[] = [];
  for await (const key of storage.snapshots.keys({ gte: withSeq(entityId, 0), lte: withSeq(entityId, MAX_SEQ), reverse: true })) {
    seqs.push(readUint64BE(key, entityId.length));
  }
  return seqs;
}

/**
 * Where compaction may cut: always at a snapshot (so the state there is known without the
 * dropped events), and only as far as the retention policy allows.
 */
async function cutPoint(storage: Storage, journal: Journal, entityId: Buffer, policy: RetentionPolicy, now: number): Promise<number> {
  const snapshots = await snapshotSeqs(storage, entityId);
  switch (policy.kind) {
    case 'all':
      return 0;
    case 'snapshots':
      return snapshots[policy.count - 1] ?? 0;
    case 'days': {
      const limit = now - policy.days * DAY_MS;
      let oldEnough = 0;
      for await (const { seq, event } of journal.replay(entityId, 1, snapshots[0] ?? 0)) {
        if (event.at >= limit) break;
        oldEnough = seq;
      }
      return snapshots.find((seq) => seq <= oldEnough) ?? 0;
    }
  }
}

/**
 * Drops the entity's journal events at or before the cut point that no longer matter for
 * its state there, with their global-index and event-offset rows. History is dropped, never
 * rewritten: what stays are the events whose effect is still in the snapshot at the cut
 * (each live entry's last Set, in recency order as before; the cache's last Created,
 * DescriptionChanged, SettingsChanged and CacheDeleted;
 * and the event at the cut itself, so the journal's newest sequence number never moves back),
 * so that projections rebuilt from the global log still equal the live ones.
 * The compaction mark is written first: a crash half-way leaves a log that is valid, only
 * less compacted.
 */
export async function compactEntity(
  storage: Storage,
  journal: Journal,
  entityId: Buffer,
  policy: RetentionPolicy,
  now: number,
  offsetsOf: OffsetLookup,
  onProgress?: (done: number) => void,
): Promise<CompactionResult> {
  const cut = await cutPoint(storage, journal, entityId, policy, now);
  const before = await compactedThrough(storage, entityId);
  if (cut === 0) return { throughSeq: 0, dropped: 0, kept: 0, note: policy.kind === 'all' ? 'the retention keeps all history' : 'no snapshot old enough to compact to' };
  if (cut <= before) return { throughSeq: before, dropped: 0, kept: 0, note: `already compacted through seq ${before}` };
  const snapshot = await journal.loadSnapshot(entityId, cut);
  if (snapshot === undefined || snapshot.seq !== cut) return { throughSeq: before, dropped: 0, kept: 0, note: `the snapshot at seq ${cut} is unreadable` };

  // The event at the cut stays too: the journal's newest seq must stay the entity's seq.
  const keep = new Set<number>([cut]);
  for (const [, entry] of snapshot.state.entries.entries()) keep.add(entry.version);
  let lastCreated = 0;
  let lastDescription = 0;
  let lastDeleted = 0;
  let lastSettings = 0;
  for await (const { seq, event } of journal.replay(entityId, 1, cut)) {
    if (event.type === 'Created') [lastCreated, lastDescription] = [seq, 0];
    else if (event.type === 'DescriptionChanged') lastDescription = seq;
    else if (event.type === 'SettingsChanged') lastSettings = seq;
    else if (event.type === 'CacheDeleted') [lastDeleted, lastSettings] = [seq, 0]; // deleting resets the settings
  }
  if (snapshot.state.status !== 'absent') [lastCreated, lastDescription].forEach((seq) => seq > 0 && keep.add(seq));
  if (snapshot.state.status === 'live' && lastSettings > 0) keep.add(lastSettings);
  if (snapshot.state.status === 'deleted' && lastDeleted > 0) keep.add(lastDeleted);

  const mark = compactionMark(entityId, cut);
  await storage.meta.put(mark.key, mark.value);
  let dropped = 0;
  let chunk: Buffer[] = [];
  const flush = async () => {
    const offsets = await offsetsOf(chunk);
    const ops: unknown[] = [];
    chunk.forEach((key, i) => {
      ops.push({ type: 'del', sublevel: storage.journal, key });
      const offset = offsets[i];
      if (offset !== undefined) ops.push({ type: 'del', sublevel: storage.global, key: uint64BE(offset) });
    });
    await storage.db.batch(ops as never, { sync: true });
    dropped += chunk.length;
    onProgress?.(dropped);
    chunk = [];
  };
  for await (const key of storage.journal.keys({ gte: withSeq(entityId, before + 1), lte: withSeq(entityId, cut) })) {
    if (keep.has(readUint64BE(key, entityId.length))) continue;
    chunk.push(key);
    if (chunk.length >= CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
  return { throughSeq: cut, dropped, kept: keep.size };
}
