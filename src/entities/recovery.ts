import { CacheState, evolve, initialState } from '../domain';
import { CompactEntryMap } from '../domain/compact-entry-map';
import { EntityRef } from '../journal/keys';
import { EntityContext, SequenceGapError } from './entity-context';
import { journaledBytes } from './snapshot-policy';

export interface Recovered {
  readonly state: CacheState;
  readonly seq: number;
  /** The seq of the snapshot recovery started from (0: none). */
  readonly snapshotSeq: number;
  /** Bytes of the events replayed after the snapshot (what the snapshot policy counts from). */
  readonly tailBytes: number;
}

/** A cache's state from its newest snapshot plus the journal's events after it, checked for gaps. */
export async function recoverState(ref: EntityRef, ctx: Pick<EntityContext, 'quota' | 'snapshots' | 'journal'>): Promise<Recovered> {
  await ctx.quota.load(ref.org);
  const snapshot = await ctx.snapshots.load(ref);
  // Committed entries live in a CompactEntryMap (values copied into slabs, no object per key).
  const state = snapshot?.state ?? { ...initialState(), entries: new CompactEntryMap() };
  let seq = snapshot?.seq ?? 0;
  let tailBytes = 0;
  await ctx.journal.forEachEvent(ref, seq + 1, (recordSeq, event) => {
    if (recordSeq !== seq + 1) throw new SequenceGapError(`journal of ${JSON.stringify(ref)} jumps from seq ${seq} to ${recordSeq}`);
    evolve(state, event);
    seq = recordSeq;
    tailBytes += journaledBytes(event);
  });
  return { state, seq, snapshotSeq: snapshot?.seq ?? 0, tailBytes };
}
