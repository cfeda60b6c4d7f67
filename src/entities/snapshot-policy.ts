import { Logger } from '@nestjs/common';
import { CacheEvent, CacheState } from '../domain';
import { EntityRef } from '../journal/keys';
import { SnapshotStore } from '../journal/snapshot-store';

/** Bytes a snapshot or a journal record takes per entry or event besides keys and values (an estimate). */
const RECORD_OVERHEAD_BYTES = 32;

/** About what an event adds to the journal (and so to a replay after a crash). */
export function journaledBytes(event: CacheEvent): number {
  switch (event.type) {
    case 'Set':
      return RECORD_OVERHEAD_BYTES + event.key.length + event.value.byteLength;
    case 'Deleted':
    case 'Expired':
    case 'Evicted':
    case 'ExpiryChanged':
      return RECORD_OVERHEAD_BYTES + event.key.length;
    default:
      return RECORD_OVERHEAD_BYTES;
  }
}

export interface SnapshotSettings {
  readonly snapshots: SnapshotStore;
  /** SNAPSHOT_EVERY events. */
  readonly every: number;
  /** SNAPSHOT_BYTES journaled since the last snapshot; absent: by events only. */
  readonly bytes?: number;
  /** A failed save poisons LevelDB's handle until it is reopened: the journal heals it. */
  report(error: unknown): void;
  /** Told of each snapshot written (the metrics). */
  written?(): void;
}

/** What the policy reads of its entity when it decides and saves. */
export interface SnapshotSource {
  readonly ref: EntityRef;
  readonly seq: number;
  readonly state: CacheState;
  /** False while recovering or after a failed recovery: nothing to save. */
  readonly snapshottable: boolean;
}

/**
 * When a cache is snapshotted, and the saving: a snapshot is taken once the bytes journaled
 * since the last one reach the snapshot's own size (so its O(state) cost, a synchronous
 * encode and a value as large as the cache, stays at most about one byte per byte written),
 * and either SNAPSHOT_EVERY events or SNAPSHOT_BYTES bytes have passed. What a restart after
 * `kill -9` replays per cache is then bounded by max(SNAPSHOT_BYTES, the cache's size) bytes.
 */
export class SnapshotPolicy {
  private readonly logger = new Logger('CacheEntity');
  private snapshotSeq = 0;
  /** Bytes journaled since the last snapshot: what a restart after `kill -9` replays. */
  private bytesSince = 0;
  /**
   * Reads moved keys in the recency order since the last snapshot. The order is not in the
   * journal, so the next snapshot carries it even without new events (a clean shutdown or a
   * passivation snapshots then); after a crash, recovery has the order of the newest
   * snapshot, updated by the writes replayed after it.
   */
  private usedSince = false;
  private saving: Promise<void> | undefined;

  constructor(
    private readonly source: SnapshotSource,
    private readonly settings: SnapshotSettings,
  ) {}

  /** Recovery loaded the snapshot at `seq` and replayed `tailBytes` after it. */
  recovered(seq: number, tailBytes: number): void {
    this.snapshotSeq = seq;
    this.bytesSince = tailBytes;
  }

  /** An event was applied to the committed state. */
  journaled(event: CacheEvent): void {
    this.bytesSince += journaledBytes(event);
  }

  /** A read moved a key in the recency order. */
  used(): void {
    this.usedSince = true;
  }

  /** Starts a snapshot when the policy says it is time (after a group is committed). */
  maybeSnapshot(): void {
    if (this.saving !== undefined) return;
    const { state, seq } = this.source;
    const snapshotSize = state.bytes + RECORD_OVERHEAD_BYTES * state.entries.size;
    if (this.bytesSince < snapshotSize) return;
    if (seq - this.snapshotSeq >= this.settings.every || this.bytesSince >= (this.settings.bytes ?? Number.POSITIVE_INFINITY)) void this.snapshot();
  }

  /** Writes a snapshot of the committed state if there are events (or reads) since the last one. */
  snapshot(): Promise<void> {
    if (this.saving) return this.saving.then(() => this.snapshot());
    const { ref, seq, state, snapshottable } = this.source;
    if ((seq === this.snapshotSeq && !this.usedSince) || !snapshottable) return Promise.resolve();
    const covered = this.bytesSince;
    // The state is encoded synchronously when the save starts: reads after this line are the next snapshot's.
    this.usedSince = false;
    this.saving = this.settings.snapshots
      .save(ref, seq, state)
      .then(() => {
        this.snapshotSeq = seq;
        this.bytesSince -= covered;
        this.settings.written?.();
      })
      .catch((error) => {
        this.usedSince = true; // the order is still only in memory
        this.settings.report(error);
        this.logger.warn(`snapshot of ${JSON.stringify(ref)} failed: ${(error as Error).message}`);
      })
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }
}
