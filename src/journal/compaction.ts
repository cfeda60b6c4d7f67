import { RetentionPolicy } from '../config/journal';
import { DropAccounting, InlineReadModels } from './inline-read-models';
import { Journal } from './journal';
import { EntityRef } from './keys';
import { SnapshotStore } from './snapshot-store';

export interface CompactionResult {
  /** Events with `seq <= throughSeq` were considered (0: nothing to do). */
  readonly throughSeq: number;
  readonly dropped: number;
  /** Events at or before `throughSeq` kept because their effect is still in the state there. */
  readonly kept: number;
  readonly note?: string;
}

const DAY_MS = 86_400_000;
/** Events whose weights a compaction keeps from its replay (about 40 bytes each). */
const MAX_WEIGHTS_KEPT = 1_000_000;

/**
 * Where compaction may cut: always at a snapshot (so the state there is known without the
 * dropped events), and only as far as the retention policy allows.
 */
async function cutPoint(journal: Journal, snapshots: SnapshotStore, ref: EntityRef, policy: RetentionPolicy, now: number): Promise<number> {
  const seqs = await snapshots.seqs(ref);
  switch (policy.kind) {
    case 'all':
      return 0;
    case 'snapshots':
      return seqs[policy.count - 1] ?? 0;
    case 'days': {
      const limit = now - policy.days * DAY_MS;
      let oldEnough = 0;
      for await (const { seq, event } of journal.replay(ref, 1, seqs[0] ?? 0)) {
        if (event.at >= limit) break;
        oldEnough = seq;
      }
      return seqs.find((seq) => seq <= oldEnough) ?? 0;
    }
  }
}

/**
 * Drops the entity's journal events at or before the cut point that no longer matter for
 * its state there. History is dropped, never rewritten: what stays are the events whose
 * effect is still in the snapshot at the cut (each live entry's last Set, and its last
 * ExpiryChanged when its expiry changed since, in recency order as before; the cache's last
 * Created, DescriptionChanged, SettingsChanged and CacheDeleted; and the event at the cut itself, so the journal's newest sequence number never moves back),
 * so that projections rebuilt from the global log still equal the live ones.
 */
export async function compactEntity(
  journal: Journal,
  snapshots: SnapshotStore,
  ref: EntityRef,
  policy: RetentionPolicy,
  now: number,
  onProgress?: (done: number) => void,
  /**
   * The read models, for a shared journal: only one node compacts a cache at a time (unless
   * the caller `claimed` it already), and what is dropped is told to every node's journal bytes.
   */
  rows?: { readonly readModels: InlineReadModels; readonly claimed?: boolean },
): Promise<CompactionResult> {
  const accounting = journal.shared ? rows?.readModels.dropAccounting() : undefined;
  if (accounting === undefined || rows?.claimed === true) return compactNow(journal, snapshots, ref, policy, now, onProgress, accounting);
  const release = await rows!.readModels.claimCompaction(ref);
  if (release === undefined) return { throughSeq: await journal.compactedThrough(ref), dropped: 0, kept: 0, note: 'another node is compacting this cache' };
  try {
    return await compactNow(journal, snapshots, ref, policy, now, onProgress, accounting);
  } finally {
    await release();
  }
}

async function compactNow(
  journal: Journal,
  snapshots: SnapshotStore,
  ref: EntityRef,
  policy: RetentionPolicy,
  now: number,
  onProgress: ((done: number) => void) | undefined,
  accounting: DropAccounting | undefined,
): Promise<CompactionResult> {
  // A compaction cut short by a crash is finished first (to its own cut, or this one's if further).
  const unfinished = await journal.unfinishedCompaction(ref);
  const cut = Math.max(await cutPoint(journal, snapshots, ref, policy, now), unfinished);
  const before = await journal.compactedThrough(ref);
  if (cut === 0) return { throughSeq: 0, dropped: 0, kept: 0, note: policy.kind === 'all' ? 'the retention keeps all history' : 'no snapshot old enough to compact to' };
  if (cut <= before && unfinished === 0) return { throughSeq: before, dropped: 0, kept: 0, note: `already compacted through seq ${before}` };
  const snapshot = await snapshots.load(ref, cut);
  if (snapshot === undefined || snapshot.seq !== cut) return { throughSeq: before, dropped: 0, kept: 0, note: `the snapshot at seq ${cut} is unreadable` };

  // The event at the cut stays too: the journal's newest seq must stay the entity's seq.
  const keep = new Set<number>([cut]);
  for (const [, entry] of snapshot.state.entries.entries()) keep.add(entry.version);
  let lastCreated = 0;
  let lastDescription = 0;
  let lastDeleted = 0;
  let lastSettings = 0;
  // An entry whose version is an ExpiryChanged holds the value of the Set before it: keep that too.
  const lastSet = new Map<string, number>();
  // What the events through the cut weigh now, and after the drop (a shared journal drops whole messages only).
  let weighed = 0;
  // What replay tells of the weights of the events that may be dropped, for dropEvents (bounded: beyond, it reads them).
  const storedBytes = new Map<number, number>();
  for await (const { seq, event, storedBytes: weight } of journal.replay(ref, 1, cut)) {
    if (accounting !== undefined) weighed += accounting.weigh(ref, event);
    if (weight !== undefined && seq > before && storedBytes.size < MAX_WEIGHTS_KEPT) storedBytes.set(seq, weight);
    if (event.type === 'Set') lastSet.set(event.key, seq);
    else if (event.type === 'ExpiryChanged' && keep.has(seq)) {
      const set = lastSet.get(event.key);
      if (set !== undefined) keep.add(set);
    } else if (event.type === 'Flushed' || event.type === 'CacheDeleted') lastSet.clear();
    else if (event.type === 'Deleted' || event.type === 'Expired' || event.type === 'Evicted') lastSet.delete(event.key);
    if (event.type === 'Created') [lastCreated, lastDescription] = [seq, 0];
    else if (event.type === 'DescriptionChanged') lastDescription = seq;
    else if (event.type === 'SettingsChanged') lastSettings = seq;
    else if (event.type === 'CacheDeleted') [lastDeleted, lastSettings] = [seq, 0]; // deleting resets the settings
  }
  if (snapshot.state.status !== 'absent') [lastCreated, lastDescription].forEach((seq) => seq > 0 && keep.add(seq));
  if (snapshot.state.status === 'live' && lastSettings > 0) keep.add(lastSettings);
  if (snapshot.state.status === 'deleted' && lastDeleted > 0) keep.add(lastDeleted);

  let dropped: number | undefined;
  try {
    dropped = await journal.dropEvents(ref, cut + 1, keep, onProgress, storedBytes);
  } finally {
    // Weighed again after the drop, even one that failed part-way (what it deleted is gone).
    if (accounting !== undefined && dropped !== 0) {
      let left = 0;
      for await (const { event } of journal.replay(ref, 1, cut)) left += accounting.weigh(ref, event);
      if (weighed > left) await accounting.dropped(ref, weighed - left);
    }
  }
  return { throughSeq: cut, dropped, kept: keep.size };
}
