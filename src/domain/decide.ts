import { CacheCommand } from './commands';
import { DomainError, domainError } from './errors';
import { CacheEvent, EventMeta } from './events';
import { assertNever } from './evolve';
import { decideRestore, restoredBytes } from './restore';
import { CacheSettings, sameSettings } from './settings';
import { CacheState, isExpired, liveEntry } from './state';

export type Decision =
  | { readonly ok: true; readonly events: CacheEvent[] }
  | { readonly ok: false; readonly error: DomainError };

const accept = (...events: CacheEvent[]): Decision => ({ ok: true, events });
const reject = (error: DomainError): Decision => ({ ok: false, error });

const cacheNotFound = (): Decision => reject(domainError('CACHE_NOT_FOUND', 'cache does not exist'));

/** Pure: no I/O and no clock; `now` (ms since the epoch) is data. */
export function decide(state: CacheState, command: CacheCommand, now: number): Decision {
  const meta: EventMeta = { at: now, by: command.by, device: command.device ?? null };
  switch (command.type) {
    case 'CreateCache':
      if (state.status === 'live') {
        return state.description === command.description
          ? accept()
          : accept({ ...meta, type: 'DescriptionChanged', description: command.description });
      }
      return accept({ ...meta, type: 'Created', description: command.description });

    case 'ChangeDescription':
      if (state.status !== 'live') return cacheNotFound();
      return state.description === command.description
        ? accept()
        : accept({ ...meta, type: 'DescriptionChanged', description: command.description });

    case 'DeleteCache':
      return state.status === 'live' ? accept({ ...meta, type: 'CacheDeleted' }) : cacheNotFound();

    case 'Flush':
      if (state.status !== 'live') return cacheNotFound();
      return state.entries.size === 0 ? accept() : accept({ ...meta, type: 'Flushed' });

    case 'SetValue': {
      const ttl = command.ttlSeconds ?? 0;
      if (!Number.isSafeInteger(ttl) || ttl < 0) {
        return reject(domainError('INVALID_ARGUMENT', 'ttlSeconds must be a whole number >= 0'));
      }
      if (command.requireCache && state.status !== 'live') return cacheNotFound();
      const invalid = checkValue(state, command.value);
      if (invalid) return reject(invalid);
      const current = liveEntry(state, command.key, now);
      if (command.mode === 'add' && current !== undefined) {
        return reject(domainError('KEY_EXISTS', 'the key already exists (add only stores new keys)'));
      }
      if ((command.mode === 'replace' || command.ifVersion !== undefined) && current === undefined) {
        return reject(domainError('KEY_NOT_FOUND', 'key does not exist'));
      }
      if (command.ifVersion !== undefined && current!.version !== command.ifVersion) {
        return reject(domainError('CAS_MISMATCH', 'the key was changed since (cas does not match)'));
      }
      const previous = state.status === 'live' ? state.entries.get(command.key) : undefined;
      const growth = command.value.byteLength - (previous?.value.byteLength ?? 0);
      if (command.quotaRemaining !== undefined && growth > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', 'the organisation has reached its byte quota'));
      }
      const effectiveTtl = ttl === 0 ? state.settings.ttlSeconds : ttl;
      return accept(...store(state, meta, command.key, command.value, effectiveTtl === 0 ? 0 : now + effectiveTtl * 1000));
    }

    case 'Increment': {
      if (typeof command.amount !== 'bigint' || !isInt64(command.amount)) {
        return reject(domainError('NUMBER_OUT_OF_RANGE', `amount must be a 64-bit signed integer (${INT64_MIN} to ${INT64_MAX})`));
      }
      const current = liveEntry(state, command.key, now);
      const base = current === undefined ? 0n : parseInt64(current.value);
      if (base === NOT_AN_INTEGER) return reject(domainError('NOT_A_NUMBER', 'the stored value is not a decimal integer, so it cannot be incremented'));
      if (base === OUT_OF_RANGE) {
        return reject(domainError('NUMBER_OUT_OF_RANGE', 'the stored value is an integer outside the 64-bit signed range, so it cannot be incremented'));
      }
      const result = base + command.amount;
      if (!isInt64(result)) {
        return reject(domainError('NUMBER_OUT_OF_RANGE', `the result ${result} would overflow a 64-bit signed integer (${INT64_MIN} to ${INT64_MAX}); nothing stored`));
      }
      const value = new TextEncoder().encode(result.toString());
      const invalid = checkValue(state, value);
      if (invalid) return reject(invalid);
      const previous = state.status === 'live' ? state.entries.get(command.key) : undefined;
      if (command.quotaRemaining !== undefined && value.byteLength - (previous?.value.byteLength ?? 0) > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', 'the organisation has reached its byte quota'));
      }
      const ttl = state.settings.ttlSeconds;
      const expiresAt = current !== undefined ? current.expiresAt : ttl === 0 ? 0 : now + ttl * 1000;
      return accept(...store(state, meta, command.key, value, expiresAt));
    }

    case 'ChangeSettings': {
      if (state.status !== 'live') return cacheNotFound();
      const changes = command.settings;
      const invalid = checkSettings(changes);
      if (invalid) return reject(invalid);
      const next: CacheSettings = {
        capacity: changes.capacity ?? state.settings.capacity,
        ttlSeconds: changes.ttlSeconds ?? state.settings.ttlSeconds,
        maxValueBytes: changes.maxValueBytes ?? state.settings.maxValueBytes,
        cacheNullValue: changes.cacheNullValue ?? state.settings.cacheNullValue,
      };
      if (sameSettings(next, state.settings)) return accept();
      return accept({ ...meta, type: 'SettingsChanged', ...next }, ...evictions(state, meta, 0, next.capacity));
    }

    case 'DeleteKey':
      if (state.status !== 'live') return cacheNotFound();
      if (liveEntry(state, command.key, now) === undefined) {
        return reject(domainError('KEY_NOT_FOUND', 'key does not exist'));
      }
      return accept({ ...meta, type: 'Deleted', key: command.key });

    case 'ExpireKey': {
      // Stale timers (the key was overwritten, deleted or flushed since) decide nothing.
      const entry = state.status === 'live' ? state.entries.get(command.key) : undefined;
      return entry !== undefined && isExpired(entry, now)
        ? accept({ ...meta, type: 'Expired', key: command.key })
        : accept();
    }

    case 'RestoreTo': {
      // Restored bytes are charged like any write: a restore that would pass the quota appends nothing.
      const growth = restoredBytes(command.target, now) - (state.status === 'live' ? state.bytes : 0);
      if (command.quotaRemaining !== undefined && growth > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', `the restore would add ${growth} bytes; the organisation has ${command.quotaRemaining} left of its byte quota`));
      }
      return accept(...decideRestore(state, command.target, meta, now));
    }

    default:
      return assertNever(command);
  }
}

/** Created if the cache is not live, evictions to make room for a new key, then the Set. */
function store(state: CacheState, meta: EventMeta, key: string, value: Uint8Array, expiresAt: number): CacheEvent[] {
  const events: CacheEvent[] = [];
  if (state.status !== 'live') events.push({ ...meta, type: 'Created', description: '' });
  events.push(...evictions(state, meta, state.entries.has(key) ? 0 : 1, state.settings.capacity));
  events.push({ ...meta, type: 'Set', key, value, expiresAt });
  return events;
}

/**
 * Evicted events for the least recently used keys (the first in the entries' order: reads
 * and writes both count, see `touch`); the choice is journaled, never recomputed on replay,
 * so that `incoming` more keys fit within `capacity` (0: unlimited).
 */
function evictions(state: CacheState, meta: EventMeta, incoming: number, capacity: number): CacheEvent[] {
  if (capacity === 0 || state.status !== 'live') return [];
  let excess = state.entries.size + incoming - capacity;
  const events: CacheEvent[] = [];
  if (excess <= 0) return events;
  for (const key of state.entries.keys()) {
    events.push({ ...meta, type: 'Evicted', key });
    if (--excess === 0) break;
  }
  return events;
}

function checkValue(state: CacheState, value: Uint8Array): DomainError | undefined {
  const { maxValueBytes, cacheNullValue } = state.settings;
  if (maxValueBytes > 0 && value.byteLength > maxValueBytes) {
    return domainError('VALUE_TOO_LARGE', `the value is larger than this cache's maxValueBytes (${maxValueBytes})`);
  }
  if (!cacheNullValue && value.byteLength === 0) {
    return domainError('EMPTY_VALUE_REJECTED', 'this cache does not store empty values (cacheNullValue is false)');
  }
  return undefined;
}

const MAX_TTL_SECONDS = 3_153_600_000;

function checkSettings(changes: Partial<CacheSettings>): DomainError | undefined {
  const wholeNumber = (field: keyof CacheSettings, max = Number.MAX_SAFE_INTEGER) => {
    const value = changes[field];
    return value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max)
      ? undefined
      : domainError('INVALID_ARGUMENT', `${field} must be a whole number between 0 and ${max}`);
  };
  if (changes.cacheNullValue !== undefined && typeof changes.cacheNullValue !== 'boolean') {
    return domainError('INVALID_ARGUMENT', 'cacheNullValue must be true or false');
  }
  return wholeNumber('capacity') ?? wholeNumber('ttlSeconds', MAX_TTL_SECONDS) ?? wholeNumber('maxValueBytes');
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
const isInt64 = (n: bigint) => n >= INT64_MIN && n <= INT64_MAX;
const NOT_AN_INTEGER = Symbol('not an integer');
const OUT_OF_RANGE = Symbol('out of range');
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The integer a value holds as decimal text (`-?[0-9]+`, leading zeros allowed), exactly:
 * read from the bytes, never through a JS number (which is exact only to 2^53).
 */
function parseInt64(value: Uint8Array): bigint | typeof NOT_AN_INTEGER | typeof OUT_OF_RANGE {
  const start = value.byteLength > 0 && value[0] === MINUS ? 1 : 0;
  if (value.byteLength === start) return NOT_AN_INTEGER;
  let firstSignificant = -1;
  for (let i = start; i < value.byteLength; i++) {
    const byte = value[i];
    if (byte < ZERO || byte > NINE) return NOT_AN_INTEGER;
    if (firstSignificant === -1 && byte !== ZERO) firstSignificant = i;
  }
  if (firstSignificant === -1) return 0n;
  if (value.byteLength - firstSignificant > 19) return OUT_OF_RANGE; // 2^63 has 19 digits: no BigInt of a huge text
  const digits = BigInt(new TextDecoder().decode(value.subarray(firstSignificant)));
  const n = start === 1 ? -digits : digits;
  return isInt64(n) ? n : OUT_OF_RANGE;
}
