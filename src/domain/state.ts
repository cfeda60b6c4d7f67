import { EntryMap, OverlayMap } from './entry-map';
import { CacheSettings, DEFAULT_SETTINGS } from './settings';

export interface Entry {
  readonly value: Uint8Array;
  /** Absolute expiry in ms since the epoch; 0 means never. */
  readonly expiresAt: number;
  /** Sequence number of the event that last set this entry or changed its expiry (IronCache's `cas`, what a Redis WATCH compares). */
  readonly version: number;
}

export type CacheStatus = 'absent' | 'live' | 'deleted';

export interface CacheState {
  status: CacheStatus;
  description: string;
  /** Number of events applied: equals the entity's sequence number. */
  version: number;
  /** Sum of the stored values' byte lengths, expired-but-not-yet-journaled ones included. */
  bytes: number;
  /**
   * In recency order: the least recently used entry first, the first to be evicted. A Set
   * moves its key to the end, and so does a read (`touch`, done by the shell: reads are not
   * journaled). The order is in memory and in snapshots (which keep it), not in the journal:
   * a replay orders keys by their writes, on top of the snapshot it starts from.
   */
  entries: EntryMap<Entry>;
  /** Replaced as a whole on change, never mutated (drafts share it with the committed state). */
  settings: CacheSettings;
}

export const initialState = (): CacheState => ({
  status: 'absent',
  description: '',
  version: 0,
  bytes: 0,
  entries: new Map(),
  settings: DEFAULT_SETTINGS,
});

/** A copy-on-write draft: evolving it leaves `state` untouched. */
export const draftOf = (state: CacheState): CacheState => ({
  ...state,
  entries: new OverlayMap(state.entries),
});

export const isExpired = (entry: Entry, now: number): boolean =>
  entry.expiresAt !== 0 && entry.expiresAt <= now;

/** The entry a read may serve: never an expired one, whether or not `Expired` is journaled yet. */
export const liveEntry = (state: CacheState, key: string, now: number): Entry | undefined => {
  if (state.status !== 'live') return undefined;
  const entry = state.entries.get(key);
  return entry === undefined || isExpired(entry, now) ? undefined : entry;
};

/**
 * A read counts as use: the key becomes the most recently used, the last to be evicted. A
 * state operation, not an event: eviction choices are journaled as `Evicted` events (replay
 * applies them as given), so reads need not be. O(1) on the entity's CompactEntryMap; a plain
 * `Map` (tests, history replays) moves the key by delete and re-insert. False when absent.
 */
export function touch(state: CacheState, key: string): boolean {
  const entries = state.entries;
  if (entries.touch !== undefined) return entries.touch(key);
  const entry = entries.get(key);
  if (entry === undefined) return false;
  entries.delete(key);
  entries.set(key, entry);
  return true;
}

/** `liveEntry` for a read that counts as use (`touch`) when it finds the entry. */
export const useEntry = (state: CacheState, key: string, now: number): Entry | undefined => {
  const entry = liveEntry(state, key, now);
  if (entry !== undefined) touch(state, key);
  return entry;
};

/** `useEntry`'s value: one lookup and no entry object where the entries can (CompactEntryMap). */
export function useValue(state: CacheState, key: string, now: number): Uint8Array | undefined {
  if (state.status !== 'live') return undefined;
  const entries = state.entries;
  return entries.useValue !== undefined ? entries.useValue(key, now) : useEntry(state, key, now)?.value;
}

/** Every key that has an expiry, with it (expired ones included: their Expired event is still due). */
export function* expiringKeys(state: CacheState): IterableIterator<[string, number]> {
  const entries = state.entries;
  if (entries.expiring !== undefined) {
    yield* entries.expiring();
    return;
  }
  for (const [key, entry] of entries.entries()) if (entry.expiresAt !== 0) yield [key, entry.expiresAt];
}

export function* liveKeys(state: CacheState, now: number): IterableIterator<string> {
  if (state.status !== 'live') return;
  for (const [key, entry] of state.entries.entries()) if (!isExpired(entry, now)) yield key;
}

/** Live keys in byte order of their UTF-8 (the order the key listing answers in). */
export function sortedLiveKeys(state: CacheState, now: number): string[] {
  return [...liveKeys(state, now)].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
