import { CacheState } from '../domain';
import { EntityRef, MAX_SEQ } from './keys';

export interface SnapshotRecord {
  readonly seq: number;
  readonly state: CacheState;
}

/**
 * Snapshots of entity state, kept apart from the events (a distributed log keeps them in
 * a KV bucket, the LevelDB journal in its own key space). Each store keeps the newest
 * `snapshotsKept` per entity.
 */
export abstract class SnapshotStore {
  /** Stores the state at `seq` (encoded now: the caller may go on changing `state`). */
  abstract save(ref: EntityRef, seq: number, state: CacheState): Promise<void>;

  /**
   * The newest readable snapshot with `seq <= maxSeq`. An unreadable one is reported loudly
   * and skipped, so recovery falls back to an older snapshot or to a full replay. With
   * `maxBytes`, a snapshot stored larger than that is refused (PointInTimeTooLargeError)
   * before any of it is decoded. With `only`, the state holds those keys' entries alone (the
   * rest is checked, not copied; `bytes` counts theirs).
   */
  abstract load(ref: EntityRef, maxSeq?: number, maxBytes?: number, only?: ReadonlySet<string>): Promise<SnapshotRecord | undefined>;

  /** Sequence numbers of the entity's snapshots, newest first. */
  abstract seqs(ref: EntityRef): Promise<number[]>;
}
