import type { DomainError } from './errors';
import type { Entry } from './state';

/**
 * Key operations: the vocabulary a key-value protocol (the Redis command engine) decides in
 * one atomic step. A list of them is one `ApplyOperations` command: decided one after the
 * other on a draft, so each sees the ones before it, and journaled as one append (all or none
 * after a crash). An operation that fails answers its error and appends nothing; the others
 * still apply (as the commands of a Redis `EXEC` do).
 *
 * Times are absolute ms since the epoch, decided by the caller from its `now` (the shell's
 * clock): the domain never reads a clock.
 */

/** The expiry a write leaves on its key. */
export type ExpiryChoice =
  /** The cache's default TTL (its `ttlSeconds` setting; 0: none), as a native write without a TTL. */
  | { readonly kind: 'default' }
  /** Keep the key's current expiry (Redis `KEEPTTL`); a new key gets the cache default. */
  | { readonly kind: 'keep' }
  /** At this absolute time (ms since the epoch). At or before `now`: the write deletes the key. */
  | { readonly kind: 'at'; readonly at: number }
  /** No expiry, whatever the cache's default. */
  | { readonly kind: 'none' };

export type KeyOperation =
  /** Reads one key. Result: `Entry | null`. Counts as use for LRU only in the shell (reads are not journaled). */
  | { readonly op: 'read'; readonly key: string }
  /** Every live key, in the state's entry order. Result: `string[]`. */
  | { readonly op: 'keys' }
  /**
   * Stores a value. `when`: `absent` (Redis NX), `present` (XX), `always`. Result:
   * `{ applied, previous }` where `previous` is the entry before (null when absent) and
   * `applied` is false when `when` did not hold (nothing appended).
   */
  | {
      readonly op: 'set';
      readonly key: string;
      readonly value: Uint8Array;
      readonly expiry: ExpiryChoice;
      readonly when: 'always' | 'absent' | 'present';
    }
  /** Deletes a key. Result: `boolean` (whether it existed). */
  | { readonly op: 'delete'; readonly key: string }
  /**
   * Sets or removes (`at: 0`) a key's expiry without touching its value. `condition` as Redis
   * EXPIRE's NX/XX/GT/LT (a key without expiry counts as an infinite one for GT/LT). An `at`
   * at or before `now` deletes the key. Result: `boolean` (false: no such key or the
   * condition did not hold). PERSIST is `at: 0` and answers false for a key without expiry.
   */
  | { readonly op: 'expire'; readonly key: string; readonly at: number; readonly condition?: 'nx' | 'xx' | 'gt' | 'lt' }
  /** Appends bytes (a missing key counts as empty). Result: `number` (the new length). */
  | { readonly op: 'append'; readonly key: string; readonly value: Uint8Array }
  /**
   * Overwrites from `offset`, zero-padding a shorter value. An empty `value` changes nothing
   * (and creates nothing). Result: `number` (the length after).
   */
  | { readonly op: 'setRange'; readonly key: string; readonly offset: number; readonly value: Uint8Array }
  /** Sets one bit (bit 0 is the most significant bit of byte 0). Result: `0 | 1` (the bit before). */
  | { readonly op: 'setBit'; readonly key: string; readonly offset: number; readonly bit: 0 | 1 }
  /** Adds a 64-bit signed integer, exactly. Result: `bigint` (the new value). */
  | { readonly op: 'incrBy'; readonly key: string; readonly amount: bigint }
  /** Adds a float (Redis INCRBYFLOAT: the result written as Redis formats it). Result: `string`. */
  | { readonly op: 'incrByFloat'; readonly key: string; readonly amount: number }
  /**
   * Moves a key's value and expiry to `to` (overwriting it unless `onlyIfAbsent`). Missing
   * source: KEY_NOT_FOUND. Result: `boolean` (false: `onlyIfAbsent` and `to` exists).
   */
  | { readonly op: 'rename'; readonly from: string; readonly to: string; readonly onlyIfAbsent: boolean }
  /** Copies a key's value and expiry to `to`. Result: `boolean` (false: no source, or `to` exists without `replace`). */
  | { readonly op: 'copy'; readonly from: string; readonly to: string; readonly replace: boolean }
  /** Removes every key of the cache (one Flushed event when it has any). Result: `true`. */
  | { readonly op: 'flush' };

export type KeyOperationName = KeyOperation['op'];

/** The result of a `set`. */
export interface SetResult {
  readonly applied: boolean;
  readonly previous: Entry | null;
}

export type OperationValue = null | boolean | number | bigint | string | readonly string[] | Entry | SetResult;

export type OperationResult = { readonly ok: true; readonly value: OperationValue } | { readonly ok: false; readonly error: DomainError };

/**
 * A key as a Redis `WATCH` saw it: the version of its live entry, or null when it was absent.
 * An `ApplyOperations` with watches whose keys changed since decides nothing and answers
 * `aborted` (Redis `EXEC` answering a null array).
 */
export interface WatchedKey {
  readonly key: string;
  readonly version: number | null;
}
