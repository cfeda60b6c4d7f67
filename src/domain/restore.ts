import { CacheEvent, EventMeta } from './events';
import { sameSettings } from './settings';
import { CacheState, Entry, isExpired } from './state';

/** The part of a past state that `RestoreTo` brings back. */
export type RestoreTarget = Pick<CacheState, 'status' | 'description' | 'entries' | 'settings'>;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes of the values a restore to `target` leaves in the cache (expired entries are not brought back). */
export function restoredBytes(target: RestoreTarget, now: number): number {
  if (target.status !== 'live') return 0;
  let bytes = 0;
  for (const [, entry] of target.entries.entries()) if (!isExpired(entry, now)) bytes += entry.value.byteLength;
  return bytes;
}

/**
 * The events that take `state` to `target`, appended after the current history (which is
 * never rewritten). Pure: `now` only decides which of the target's entries have expired
 * since, and those are not brought back. Sets keep their original absolute `expiresAt`.
 */
export function decideRestore(state: CacheState, target: RestoreTarget, meta: EventMeta, now: number): CacheEvent[] {
  if (target.status !== 'live') return state.status === 'live' ? [{ ...meta, type: 'CacheDeleted' }] : [];
  const wanted = new Map<string, Entry>();
  for (const [key, entry] of target.entries.entries()) if (!isExpired(entry, now)) wanted.set(key, entry);
  const set = (key: string, entry: Entry): CacheEvent => ({ ...meta, type: 'Set', key, value: entry.value, expiresAt: entry.expiresAt });

  const settings: CacheEvent = { ...meta, type: 'SettingsChanged', ...target.settings };

  if (state.status !== 'live') {
    const created: CacheEvent = { ...meta, type: 'Created', description: target.description };
    return [created, ...(sameSettings(state.settings, target.settings) ? [] : [settings]), ...[...wanted].map(([key, entry]) => set(key, entry))];
  }
  const events: CacheEvent[] = [];
  if (state.description !== target.description) events.push({ ...meta, type: 'DescriptionChanged', description: target.description });
  if (!sameSettings(state.settings, target.settings)) events.push(settings);
  if (wanted.size === 0) {
    if (state.entries.size > 0) events.push({ ...meta, type: 'Flushed' });
    return events;
  }
  for (const key of state.entries.keys()) if (!wanted.has(key)) events.push({ ...meta, type: 'Deleted', key });
  for (const [key, entry] of wanted) {
    const current = state.entries.get(key);
    if (current === undefined || current.expiresAt !== entry.expiresAt || !sameBytes(current.value, entry.value)) events.push(set(key, entry));
  }
  return events;
}
