import { CacheEvent } from './events';
import { DEFAULT_SETTINGS } from './settings';
import { CacheState } from './state';

/**
 * Applies one committed event. The state is owned by the caller and updated in place
 * (copying a cache of a million entries per event is not an option); replaying the same
 * events on `initialState()` always yields the same state.
 */
export function evolve(state: CacheState, event: CacheEvent): CacheState {
  state.version += 1;
  switch (event.type) {
    case 'Created':
      state.status = 'live';
      state.description = event.description;
      return state;
    case 'DescriptionChanged':
      state.description = event.description;
      return state;
    case 'CacheDeleted':
      state.status = 'deleted';
      state.entries.clear();
      state.bytes = 0;
      state.settings = DEFAULT_SETTINGS;
      return state;
    case 'Flushed':
      state.entries.clear();
      state.bytes = 0;
      return state;
    case 'Set': {
      const previous = state.entries.get(event.key);
      if (previous !== undefined) {
        state.bytes -= previous.value.byteLength;
        state.entries.delete(event.key); // a write makes the key the most recently used
      }
      state.entries.set(event.key, { value: event.value, expiresAt: event.expiresAt, version: state.version });
      state.bytes += event.value.byteLength;
      return state;
    }
    case 'ExpiryChanged': {
      // A write like a Set: the entry gets this event's version (so a Redis WATCH sees the
      // change) and becomes the most recently used (a write counts as use, as Redis's EXPIRE
      // does); its value and the cache's bytes stay as they are.
      const previous = state.entries.get(event.key);
      if (previous !== undefined) {
        state.entries.delete(event.key);
        state.entries.set(event.key, { value: previous.value, expiresAt: event.expiresAt, version: state.version });
      }
      return state;
    }
    case 'SettingsChanged': {
      const { capacity, ttlSeconds, maxValueBytes, cacheNullValue } = event;
      state.settings = { capacity, ttlSeconds, maxValueBytes, cacheNullValue };
      return state;
    }
    case 'Deleted':
    case 'Expired':
    case 'Evicted': {
      const previous = state.entries.get(event.key);
      if (previous !== undefined) {
        state.bytes -= previous.value.byteLength;
        state.entries.delete(event.key);
      }
      return state;
    }
    default:
      return assertNever(event);
  }
}

/**
 * `evolve` of a state that holds the entries of `keys` alone (a point-in-time read of one
 * key): an event of another key moves only the version, as it would have moved the whole
 * state's, so these entries, the version, status and settings are the whole state's.
 */
export function evolveOnly(state: CacheState, event: CacheEvent, keys: ReadonlySet<string>): CacheState {
  if ('key' in event && !keys.has(event.key)) {
    state.version += 1;
    return state;
  }
  return evolve(state, event);
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
