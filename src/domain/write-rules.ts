import { DomainError, domainError } from './errors';
import { CacheEvent, EventMeta } from './events';
import { CacheState } from './state';

/**
 * The rules every stored value goes through, whichever command stores it (decide.ts's
 * SetValue and Increment, decide-operations.ts's key operations): the cache's value checks,
 * the default expiry, creation of a cache that is not live, and LRU evictions at capacity.
 */

/** The Set event (fields written out: `{ ...meta }` cloned the meta object on every Set and measured ~4 % of a durable SET's main thread). */
export const setEvent = (meta: EventMeta, key: string, value: Uint8Array, expiresAt: number): CacheEvent => ({
  at: meta.at,
  by: meta.by,
  device: meta.device,
  type: 'Set',
  key,
  value,
  expiresAt,
});

/**
 * Created if the cache is not live, evictions to make room for a new key, then the Set. A
 * write evicts at most the keys it adds: a cache left over its capacity by a cut is brought
 * down by TrimToCapacity in bounded steps, never by one write.
 */
export function store(state: CacheState, meta: EventMeta, key: string, value: Uint8Array, expiresAt: number): CacheEvent[] {
  const incoming = state.entries.has(key) ? 0 : 1;
  const events = evictions(state, meta, incoming, state.settings.capacity, incoming);
  if (state.status !== 'live') events.unshift({ ...meta, type: 'Created', description: '' });
  events.push(setEvent(meta, key, value, expiresAt));
  return events;
}

/**
 * Evicted events for the least recently used keys (the first in the entries' order: reads
 * and writes both count, see `touch`); the choice is journaled, never recomputed on replay,
 * so that `incoming` more keys fit within `capacity` (0: unlimited); at most `atMost` of them.
 */
export function evictions(state: CacheState, meta: EventMeta, incoming: number, capacity: number, atMost = Infinity): CacheEvent[] {
  if (capacity === 0 || state.status !== 'live') return [];
  let excess = Math.min(state.entries.size + incoming - capacity, atMost);
  const events: CacheEvent[] = [];
  if (excess <= 0) return events;
  for (const key of state.entries.keys()) {
    events.push({ at: meta.at, by: meta.by, device: meta.device, type: 'Evicted', key }); // fields written out, as setEvent: a spread per key measured ~8x slower
    if (--excess === 0) break;
  }
  return events;
}

/** The cache holds more keys than its capacity: a cut's evictions are not all journaled yet. */
export const overCapacity = (state: CacheState): boolean => state.status === 'live' && state.settings.capacity > 0 && state.entries.size > state.settings.capacity;

/** The cache's own checks of a value it is asked to store: `maxValueBytes` and `cacheNullValue`. */
export function checkValue(state: CacheState, value: Uint8Array): DomainError | undefined {
  const { maxValueBytes, cacheNullValue } = state.settings;
  if (maxValueBytes > 0 && value.byteLength > maxValueBytes) {
    return domainError('VALUE_TOO_LARGE', `the value is larger than this cache's maxValueBytes (${maxValueBytes})`);
  }
  if (!cacheNullValue && value.byteLength === 0) {
    return domainError('EMPTY_VALUE_REJECTED', 'this cache does not store empty values (cacheNullValue is false)');
  }
  return undefined;
}

/** The absolute expiry of a value written without one: the cache's default TTL from `now` (0: none). */
export function defaultExpiry(state: CacheState, now: number): number {
  const ttl = state.settings.ttlSeconds;
  return ttl === 0 ? 0 : now + ttl * 1000;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const isInt64 = (n: bigint): boolean => n >= INT64_MIN && n <= INT64_MAX;
export const NOT_AN_INTEGER = Symbol('not an integer');
export const OUT_OF_RANGE = Symbol('out of range');
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The integer a value holds as decimal text (`-?[0-9]+`, leading zeros allowed), exactly:
 * read from the bytes, never through a JS number (which is exact only to 2^53).
 */
export function parseInt64(value: Uint8Array): bigint | typeof NOT_AN_INTEGER | typeof OUT_OF_RANGE {
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

/**
 * `parseInt64` as Redis reads an integer (its `string2ll`): the canonical form only, so no
 * leading zero (`007`) and no `-0`. Redis answers one error for a value that is not such an
 * integer and for one beyond 64 bits, so both are NOT_AN_INTEGER here.
 */
export function parseRedisInt64(value: Uint8Array): bigint | typeof NOT_AN_INTEGER {
  const start = value.byteLength > 0 && value[0] === MINUS ? 1 : 0;
  if (value.byteLength > start + 1 && value[start] === ZERO) return NOT_AN_INTEGER;
  if (start === 1 && value.byteLength === 2 && value[1] === ZERO) return NOT_AN_INTEGER;
  const n = parseInt64(value);
  return n === OUT_OF_RANGE ? NOT_AN_INTEGER : n;
}
