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

/** A backup stopped by its `take` (a limit of bytes on disk). */
export class BackupLimitError extends Error {}

export interface OnlineBackupOptions {
  /** Only this org's caches; the whole instance when absent. */
  readonly org?: string;
  /** Which task records (as stored: JSON) go in. */
  readonly keepTask: (value: Buffer) => boolean;
  /** Which files beside the database (relative to the data directory, `/`-separated) go in. */
  readonly keepFile: (path: string) => boolean;
  /** Asked before every record with its bytes; false stops the backup with BackupLimitError. */
  readonly take?: (bytes: number) => boolean;
  readonly progress?: (entries: number) => void;
}

export interface OnlineBackupCounts {
  readonly entries: number;
  readonly files: number;
  readonly bytes: number;
  /** The journal's highest global offset in the backup (the point it was read at). */
  readonly throughOffset: number;
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
   * Writes a backup of the running service to `out` (a new file), in the format `cachelog
   * restore` reads; undefined where the backend cannot (only the embedded LevelDB holds all of
   * an instance in one database of its own).
   */
  readonly onlineBackup: ((dataDir: string, out: string, options: OnlineBackupOptions) => Promise<OnlineBackupCounts>) | undefined = undefined;

  /**
   * Checks the stored log before anything reads it: throws JournalCorruptError on damage,
   * or with `repair` cuts the log before the first damaged record (read models whose
   * offsets pass the cut are cleared, to be rebuilt).
   */
  abstract check(options: { repair: boolean }): Promise<StartCheck>;

  abstract close(): Promise<void>;
}
