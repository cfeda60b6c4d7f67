/**
 * Per-cache settings (after the gateway document's CacheSettings). Changing them is an
 * event like any other, so replay restores them.
 */
export interface CacheSettings {
  /** Most entries the cache keeps; beyond it the least recently used (read or written) is evicted. 0: unlimited. */
  readonly capacity: number;
  /** Default TTL in whole seconds for values set without one. 0: no default expiry. */
  readonly ttlSeconds: number;
  /** Largest value this cache accepts, in bytes. 0: only the service-wide limit applies. */
  readonly maxValueBytes: number;
  /** Whether empty values are stored; when false, setting one is rejected. */
  readonly cacheNullValue: boolean;
}

export const DEFAULT_SETTINGS: CacheSettings = Object.freeze({
  capacity: 0,
  ttlSeconds: 0,
  maxValueBytes: 0,
  cacheNullValue: true,
});

export const sameSettings = (a: CacheSettings, b: CacheSettings): boolean =>
  a.capacity === b.capacity && a.ttlSeconds === b.ttlSeconds && a.maxValueBytes === b.maxValueBytes && a.cacheNullValue === b.cacheNullValue;
