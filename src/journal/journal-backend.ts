import { InlineReadModels } from './inline-read-models';
import { Journal } from './journal';
import { ReadModelStore } from './read-model-store';
import { SnapshotStore } from './snapshot-store';

export interface StartCheck {
  /** Events removed by a repair (0: the journal was intact or not repaired). */
  readonly removed: number;
  /** The global offset the repair cut at, when it cut. */
  readonly cutAt?: number;
}

/**
 * A key-value bucket that every node of a shared journal reads and writes (task records live
 * there, so a task id answers on any node). Keys are task ids.
 */
export interface SharedBucket {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): AsyncIterable<string>;
}

/**
 * One storage backend: the journal, its snapshots and the read-model key spaces, opened
 * and closed together by the application's lifecycle (no one else opens or closes it).
 */
export abstract class JournalBackend {
  abstract readonly name: string;
  abstract readonly journal: Journal;
  abstract readonly snapshots: SnapshotStore;
  abstract readonly readModels: ReadModelStore;
  /** Read models kept in the journal's own writes (key listing, cache names, org bytes, expiry index). */
  abstract readonly inline: InlineReadModels;
  /** A journal shared by several nodes has a bucket they all read; an embedded one has none. */
  readonly sharedBucket: SharedBucket | undefined = undefined;

  abstract open(): Promise<void>;

  /**
   * Checks the stored log before anything reads it: throws JournalCorruptError on damage,
   * or with `repair` cuts the log before the first damaged record (read models whose
   * offsets pass the cut are cleared, to be rebuilt).
   */
  abstract check(options: { repair: boolean }): Promise<StartCheck>;

  abstract close(): Promise<void>;
}
