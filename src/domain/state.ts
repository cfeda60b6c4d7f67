import { EntryMap, OverlayMap } from './entry-map';
import { CacheSettings, DEFAULT_SETTINGS } from './settings';

export interface Entry {
  readonly value: Uint8Array;
  /** Absolute expiry in ms since the epoch; 0 means never. */
  readonly expiresAt: number;
  /** Sequence number of the event that last set this entry (IronCache's `cas`). */
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
   * In recency order: the least recently written entry first. A Set moves its key to the
   * end, so replay (and a snapshot, which keeps this order) rebuilds the same order.
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

export function* liveKeys(state: CacheState, now: number): IterableIterator<string> {
  if (state.status !== 'live') return;
  for (const [key, entry] of state.entries.entries()) if (!isExpired(entry, now)) yield key;
}

/** Live keys in byte order of their UTF-8 (the order the key listing answers in). */
export function sortedLiveKeys(state: CacheState, now: number): string[] {
  return [...liveKeys(state, now)].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
