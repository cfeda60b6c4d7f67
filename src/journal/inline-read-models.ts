import { CacheEvent, CacheState } from '../domain';
import { EntityRef } from './keys';

/**
 * Read models that are pure functions of the events: a journal keeps them in the same
 * atomic write as the events (exactly-once by construction, no offset, no second write),
 * so they are exact the moment an append resolves, and a restart needs no cache loaded to
 * answer them.
 */

export interface CacheNameRow {
  readonly cacheName: string;
  readonly description: string;
  readonly deleted: boolean;
}

export interface DueExpiry {
  readonly ref: EntityRef;
  readonly key: string;
  readonly expiresAt: number;
}

export abstract class InlineReadModels {
  /** Live keys of a cache (not expired at `now`), in byte order of the key. */
  abstract listKeys(ref: EntityRef, now: number): Promise<string[]>;
  /**
   * One page of the same listing, in the same order, with bounded work: at most
   * `request.examine` rows are looked at (expired and refused ones included), so a page of a
   * million-key cache costs what a page of a small one does. Continuing after the page's
   * `last` key visits every key that sorts after it, whatever was written meanwhile: a key
   * present for a whole walk is returned once.
   */
  abstract keyPage(ref: EntityRef, now: number, request: KeyPageRequest): Promise<KeyPage>;
  /** The org's caches, live ones only unless `includeDeleted`. */
  abstract listCaches(org: string, includeDeleted?: boolean): Promise<CacheNameRow[]>;
  /** Value bytes of all the org's live entries (expired ones count until their Expired event). */
  abstract orgBytes(org: string): Promise<number>;
  /** `orgBytes` synchronously, once it has been read (undefined before). */
  abstract orgBytesNow(org: string): number | undefined;
  /**
   * Journal bytes of an org (its events as stored, with their index rows: values, keys,
   * descriptions, settings, every overwrite retained), once known; undefined: not counted by
   * this journal, or not read yet (`journalBytes` reads it).
   */
  journalBytesNow(_org: string): number | undefined {
    return undefined;
  }
  async journalBytes(_org: string): Promise<number | undefined> {
    return undefined;
  }
  /** Journal bytes of one cache, once known (the retained history auto-compaction weighs). */
  cacheJournalBytesNow(_ref: EntityRef): number | undefined {
    return undefined;
  }
  /** Journal bytes of every org together (DISK_BUDGET_BYTES), once known. */
  totalJournalBytesNow(): number | undefined {
    return undefined;
  }
  /**
   * Takes the right to compact one cache: on a shared journal only one node compacts a cache
   * at a time. Answers the release, or undefined while another node holds it. Here (one
   * process, the journal's own marks): always granted.
   */
  async claimCompaction(_ref: EntityRef): Promise<(() => Promise<void>) | undefined> {
    return async () => undefined;
  }
  /**
   * How compaction tells the rows what it dropped, for a journal whose drop does not write
   * them in its own batch (NATS: messages are deleted from the stream, and every node's rows
   * must lose their weight); undefined: the journal does it itself (LevelDB) or counts nothing.
   */
  dropAccounting(): DropAccounting | undefined {
    return undefined;
  }

  /** Entries with `expiresAt <= until`, soonest first, at most `limit`. */
  abstract dueExpiries(until: number, limit: number): Promise<DueExpiry[]>;
  /** Whether the cache is there and not deleted. */
  abstract isLive(ref: EntityRef): Promise<boolean>;

  /**
   * The cache's name row (its description, and whether it is deleted); undefined: the cache
   * never existed (or was compacted away). Lets a read of a cache that is not live be answered
   * without recovering an entity for it.
   */
  async cacheRow(ref: EntityRef): Promise<NameRow | undefined> {
    const row = (await this.listCaches(ref.org, true)).find((r) => r.cacheName === ref.name);
    return row === undefined ? undefined : { description: row.description, deleted: row.deleted };
  }
  /** `cacheRow` of many caches, in their order (one read of the store where it can). */
  cacheRows(refs: readonly EntityRef[]): Promise<Array<NameRow | undefined>> {
    return Promise.all(refs.map((ref) => this.cacheRow(ref)));
  }
  /**
   * Recomputes every row from the journal (offline `cachelog rebuild`, after a repair, or to
   * check them); `progress` hears the global offset reached.
   */
  abstract rebuild(progress?: { update(offset: number): void }): Promise<void>;
  /**
   * Makes one cache's rows equal to those its committed state implies, with no append
   * written meanwhile; other caches' rows are not touched. `state()` is asked once no
   * append is being written; undefined from it (the cache has a write under way) leaves
   * everything as it was and answers undefined. Otherwise answers how many rows were wrong.
   */
  abstract repairCache(ref: EntityRef, state: () => CacheState | undefined): Promise<RepairedRows | undefined>;
  /** Every row, as text, in a stable order (to compare maintained rows with a rebuild). */
  abstract dump(): Promise<string[]>;

  /**
   * Resolves true once the rows include every event up to `offset` (false after `timeoutMs`).
   * A journal that writes them with the events is always there; a shared journal's node
   * applies other nodes' events a moment after it learns of them.
   */
  whenApplied(_offset: number, _timeoutMs: number): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** See `InlineReadModels.dropAccounting`. */
export interface DropAccounting {
  /** What one event weighs in the journal-bytes rows (the same figure the rows added for it). */
  weigh(ref: EntityRef, event: CacheEvent): number;
  /** Compaction dropped events of the cache weighing `bytes`: every node's rows lose them; resolves once this node's have. */
  dropped(ref: EntityRef, bytes: number): Promise<void>;
}

export interface RepairedRows {
  readonly 'key-listing': number;
  readonly 'cache-names': number;
}

export interface KeyPageRequest {
  /** Start after this key (its UTF-8 bytes); undefined: from the first key. */
  readonly after?: Buffer;
  /** Only keys that start with these bytes (a match pattern's literal prefix): the walk seeks to them and stops past them. */
  readonly prefix?: Buffer;
  /** Rows looked at, at most (the page's work bound). */
  readonly examine: number;
  /** Rows returned, at most: the page ends at the row that fills it. */
  readonly limit: number;
  /** Which live keys the page returns (a match pattern). */
  readonly accept: (key: string) => boolean;
}

export interface KeyPageRow {
  readonly key: string;
  /** 0: never. */
  readonly expiresAt: number;
  readonly bytes: number;
}

export interface KeyPage {
  readonly rows: KeyPageRow[];
  /** The last key looked at (UTF-8 bytes), to continue after; undefined: nothing is left to look at. */
  readonly last?: Buffer;
}

/** A key row: when the entry expires (0: never) and its value's size. */
export interface KeyRow {
  readonly expiresAt: number;
  readonly bytes: number;
}

export interface NameRow {
  readonly description: string;
  readonly deleted: boolean;
}

/** How `applyToReadModels` sees and changes rows; each journal gives its own. */
export interface ReadModelRows {
  keyRow(entityId: Buffer, key: string): KeyRow | undefined;
  /** Every current key row of the entity (for Flushed and CacheDeleted). */
  keyRows(entityId: Buffer): Iterable<[string, KeyRow]>;
  nameRow(entityId: Buffer): NameRow | undefined;
  putKey(entityId: Buffer, key: string, row: KeyRow): void;
  delKey(entityId: Buffer, key: string): void;
  putName(entityId: Buffer, row: NameRow): void;
  delName(entityId: Buffer): void;
  putExpiry(expiresAt: number, entityId: Buffer, key: string): void;
  delExpiry(expiresAt: number, entityId: Buffer, key: string): void;
  addOrgBytes(org: string, delta: number): void;
}

/** The one definition of the inline read models: applies one event. */
export function applyToReadModels(rows: ReadModelRows, ref: EntityRef, entityId: Buffer, event: CacheEvent): void {
  const removeKey = (key: string, row: KeyRow) => {
    rows.delKey(entityId, key);
    if (row.expiresAt !== 0) rows.delExpiry(row.expiresAt, entityId, key);
    rows.addOrgBytes(ref.org, -row.bytes);
  };
  switch (event.type) {
    case 'Set': {
      const previous = rows.keyRow(entityId, event.key);
      if (previous !== undefined) removeKey(event.key, previous);
      const bytes = event.value.byteLength;
      rows.putKey(entityId, event.key, { expiresAt: event.expiresAt, bytes });
      if (event.expiresAt !== 0) rows.putExpiry(event.expiresAt, entityId, event.key);
      rows.addOrgBytes(ref.org, bytes);
      return;
    }
    case 'Deleted':
    case 'Expired':
    case 'Evicted': {
      const previous = rows.keyRow(entityId, event.key);
      if (previous !== undefined) removeKey(event.key, previous);
      return;
    }
    case 'ExpiryChanged': {
      // The key keeps its row and bytes; only its place in the expiry index moves.
      const previous = rows.keyRow(entityId, event.key);
      if (previous === undefined || previous.expiresAt === event.expiresAt) return;
      if (previous.expiresAt !== 0) rows.delExpiry(previous.expiresAt, entityId, event.key);
      rows.putKey(entityId, event.key, { expiresAt: event.expiresAt, bytes: previous.bytes });
      if (event.expiresAt !== 0) rows.putExpiry(event.expiresAt, entityId, event.key);
      return;
    }
    case 'Flushed':
    case 'CacheDeleted': {
      for (const [key, row] of [...rows.keyRows(entityId)]) removeKey(key, row);
      if (event.type === 'CacheDeleted') rows.putName(entityId, { description: rows.nameRow(entityId)?.description ?? '', deleted: true });
      return;
    }
    case 'Created':
    case 'DescriptionChanged':
      rows.putName(entityId, { description: event.description, deleted: false });
      return;
    case 'SettingsChanged':
      return;
  }
}

/** Makes one cache's rows equal to what `state` implies (its entries, expired ones not yet journaled included). */
export function repairRows(rows: ReadModelRows, ref: EntityRef, entityId: Buffer, state: CacheState): RepairedRows {
  const repaired = { 'key-listing': 0, 'cache-names': 0 };
  for (const _ of repairSteps(rows, ref, entityId, state, repaired));
  return repaired;
}

/**
 * `repairRows` with a turn of the event loop after every REPAIR_ROWS_PER_TURN rows compared,
 * for rows that are the caller's own until it writes them (the LevelDB journal's batch): the
 * state is read in the first turn, so a state that moves meanwhile is the caller's to check.
 * A rebuild of a 40,000-key cache compared them all in one turn (50-65 ms, measured).
 */
export async function repairRowsInTurns(rows: ReadModelRows, ref: EntityRef, entityId: Buffer, state: CacheState): Promise<RepairedRows> {
  const repaired = { 'key-listing': 0, 'cache-names': 0 };
  for (const _ of repairSteps(rows, ref, entityId, state, repaired)) await new Promise<void>((resolve) => setImmediate(resolve));
  return repaired;
}

const REPAIR_ROWS_PER_TURN = 5_000;

/** The repair, pausing (a `yield`) after each REPAIR_ROWS_PER_TURN rows once the state is read. */
function* repairSteps(rows: ReadModelRows, ref: EntityRef, entityId: Buffer, state: CacheState, repaired: { 'key-listing': number; 'cache-names': number }): Generator<void> {
  const desired = new Map<string, KeyRow>();
  for (const [key, entry] of state.entries.entries()) desired.set(key, { expiresAt: entry.expiresAt, bytes: entry.value.byteLength });
  const expected = state.status === 'absent' ? undefined : { description: state.description, deleted: state.status === 'deleted' };
  const put = (key: string, row: KeyRow) => {
    rows.putKey(entityId, key, row);
    if (row.expiresAt !== 0) rows.putExpiry(row.expiresAt, entityId, key);
    rows.addOrgBytes(ref.org, row.bytes);
  };
  let compared = 0;
  for (const [key, row] of [...rows.keyRows(entityId)]) {
    if (++compared % REPAIR_ROWS_PER_TURN === 0) yield;
    const want = desired.get(key);
    desired.delete(key);
    if (want !== undefined && want.expiresAt === row.expiresAt && want.bytes === row.bytes) continue;
    repaired['key-listing']++;
    rows.delKey(entityId, key);
    if (row.expiresAt !== 0) rows.delExpiry(row.expiresAt, entityId, key);
    rows.addOrgBytes(ref.org, -row.bytes);
    if (want !== undefined) put(key, want);
  }
  for (const [key, row] of desired) {
    if (++compared % REPAIR_ROWS_PER_TURN === 0) yield;
    repaired['key-listing']++;
    put(key, row);
  }
  const actual = rows.nameRow(entityId);
  if (expected === undefined ? actual !== undefined : actual === undefined || actual.description !== expected.description || actual.deleted !== expected.deleted) {
    repaired['cache-names'] = 1;
    if (expected === undefined) rows.delName(entityId);
    else rows.putName(entityId, expected);
  }
}
