import { mkdirSync } from 'node:fs';
import type { AbstractSublevel } from 'abstract-level';
import { Level } from 'level';
import { StorageHealer } from './storage-healer';

type Bytes = Buffer;
export type Sublevel = AbstractSublevel<Level<Bytes, Bytes>, string | Buffer | Uint8Array, Bytes, Bytes>;

export const DATA_FORMAT = '2';

const BINARY = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/** One LevelDB under DATA_DIR, split into key spaces (sublevels). Only `src/journal/leveldb/` uses it. */
export class Storage {
  readonly db: Level<Bytes, Bytes>;
  readonly journal: Sublevel;
  readonly global: Sublevel;
  readonly snapshots: Sublevel;
  /** Chunks of large snapshots (see snapshot-chunks.ts). */
  readonly snapshotChunks: Sublevel;
  readonly projections: Sublevel;
  readonly offsets: Sublevel;
  /** The global offset of every event by its journal key, written in the events' own batch. */
  readonly eventOffsets: Sublevel;
  /** Inline read models, written in the events' own batch: key rows, cache names, org byte totals, expiry index. */
  readonly listing: Sublevel;
  readonly names: Sublevel;
  readonly orgBytes: Sublevel;
  /** Journal bytes (events, their index rows, retained history) by org, by cache and in all: the disk budget. */
  readonly journalBytes: Sublevel;
  readonly expiry: Sublevel;
  readonly tasks: Sublevel;
  readonly meta: Sublevel;
  /** Every key space made, nested ones included: a reopened database does not reopen them. */
  private readonly spaces: Sublevel[] = [];
  private closedForGood = false;
  /** Reopens the database after a failed write (see StorageHealer). */
  readonly healer: StorageHealer;

  /** @param options.reopenMaxBackoffMs the longest wait between two reopen attempts after a fault. */
  constructor(
    readonly location: string,
    options: { readonly reopenMaxBackoffMs?: number } = {},
  ) {
    this.healer = new StorageHealer(this, options.reopenMaxBackoffMs);
    mkdirSync(location, { recursive: true });
    this.db = new Level<Bytes, Bytes>(location, BINARY);
    const space = (name: string) => this.remember(this.db.sublevel<Bytes, Bytes>(name, BINARY) as Sublevel);
    this.journal = space('journal');
    this.global = space('global');
    this.snapshots = space('snapshots');
    this.snapshotChunks = space('snapshot-chunks');
    this.projections = space('projections');
    this.offsets = space('offsets');
    this.eventOffsets = space('event-offsets');
    this.listing = space('listing');
    this.names = space('names');
    this.orgBytes = space('org-bytes');
    this.journalBytes = space('journal-bytes');
    this.expiry = space('expiry');
    this.tasks = space('tasks');
    this.meta = space('meta');
  }

  /** The key space of one projection's rows, nested in `projections`. */
  projectionRows(name: string): Sublevel {
    return this.remember(this.projections.sublevel<Bytes, Bytes>(name, BINARY) as unknown as Sublevel);
  }

  private remember(space: Sublevel): Sublevel {
    this.spaces.push(space);
    return space;
  }

  /** True once `close()` was called (a clean shutdown): nothing reopens it. */
  get isClosed(): boolean {
    return this.closedForGood;
  }

  /** True when the database and every key space are open (no fault to heal). */
  get isOpen(): boolean {
    return this.db.status === 'open' && this.spaces.every((space) => space.status === 'open');
  }

  /**
   * Closes and opens the database again, and every key space with it (abstract-level
   * leaves sublevels closed after their database was closed and reopened).
   */
  async reopen(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close().catch(() => undefined);
    await this.db.open();
    for (const space of this.spaces) await space.open();
  }

  /** A small synced write: succeeds only when the storage takes writes again. */
  async probeWrite(): Promise<void> {
    await this.meta.put(Buffer.from('probe'), Buffer.from(String(Date.now())), { sync: true } as never);
  }

  async open(): Promise<void> {
    await this.db.open();
    const formatKey = Buffer.from('format');
    const format = await this.meta.get(formatKey);
    // Format 2: every journal value carries a CRC-32 of its event (format 1 had none).
    if (format == null) await this.meta.put(formatKey, Buffer.from(DATA_FORMAT));
    else if (format.toString() !== DATA_FORMAT) throw new Error(`unsupported data format ${format.toString()} in ${this.location} (this version reads format ${DATA_FORMAT})`);
  }

  async close(): Promise<void> {
    this.closedForGood = true;
    await this.healer.stop(); // a reopen under way must not outlive the close
    if (this.db.status !== 'open') return;
    // LevelDB replays its write-ahead log on open, and a clean shutdown's snapshots of large
    // caches sit in it (1M keys: ~130 MB, ~0.7 s of the next start). Compacting a one-key
    // range flushes the memtable to a table first, so the next open has no log to replay.
    const formatKey = Buffer.from(`${this.meta.prefix}format`, 'utf8');
    await (this.db as unknown as { compactRange(start: Buffer, end: Buffer): Promise<void> }).compactRange(formatKey, formatKey).catch(() => undefined);
    await this.db.close();
  }
}
