import type { KeyOperation, WatchedKey } from './operations';
import type { RestoreTarget } from './restore';
import { CacheSettings } from './settings';

export interface CommandMeta {
  /** The token's `name` claim. */
  readonly by: string;
  readonly device?: string | null;
}

export type CacheCommand =
  /** Creates the cache, overwrites its description, or revives a deleted name. */
  | (CommandMeta & { readonly type: 'CreateCache'; readonly description: string })
  /** Changes the description of a live cache. */
  | (CommandMeta & { readonly type: 'ChangeDescription'; readonly description: string })
  | (CommandMeta & { readonly type: 'DeleteCache' })
  | (CommandMeta & { readonly type: 'Flush' })
  | (CommandMeta & {
      readonly type: 'SetValue';
      readonly key: string;
      readonly value: Uint8Array;
      /** Whole seconds; 0 or undefined means no expiry. */
      readonly ttlSeconds?: number;
      /** Bytes the tenant may still add; undefined means unlimited. Supplied by the shell. */
      readonly quotaRemaining?: number;
      /** `add`: only if the key is absent; `replace`: only if present; default: always. */
      readonly mode?: SetMode;
      /** Only if the key's current version (IronCache's `cas`) equals this. */
      readonly ifVersion?: number;
      /** Reject with CACHE_NOT_FOUND instead of creating a missing cache (Momento). */
      readonly requireCache?: boolean;
    })
  /**
   * Adds `amount` to a value holding a decimal 64-bit signed integer (a missing key counts as
   * 0), exactly (BigInt); journaled as a Set of the result's decimal text.
   */
  | (CommandMeta & {
      readonly type: 'Increment';
      readonly key: string;
      readonly amount: bigint;
      /** Bytes the tenant may still add; undefined means unlimited. Supplied by the shell. */
      readonly quotaRemaining?: number;
    })
  /**
   * Changes some settings; the rest keep their values. `maxEvents` (the service's
   * MAX_EVENTS_PER_COMMAND, from the shell): a capacity cut that would evict more keys than that
   * is refused before a single eviction is chosen. `evictAtMost` (the shell's room in one commit
   * group): the evictions decided now; the cache is over its capacity until TrimToCapacity
   * commands have evicted the rest. Undefined: all of them now.
   */
  | (CommandMeta & { readonly type: 'ChangeSettings'; readonly settings: Partial<CacheSettings>; readonly maxEvents?: number; readonly evictAtMost?: number })
  /**
   * Evicts up to `evictAtMost` least recently used keys of a cache over its capacity (what a
   * capacity cut left for later groups); decides nothing for a cache within its capacity.
   */
  | (CommandMeta & { readonly type: 'TrimToCapacity'; readonly evictAtMost: number })
  | (CommandMeta & { readonly type: 'DeleteKey'; readonly key: string })
  /** Sent by the expiry scheduler when a key's `expiresAt` has passed. */
  | (CommandMeta & { readonly type: 'ExpireKey'; readonly key: string })
  /**
   * Key operations decided in order on one draft and journaled as one append (see
   * operations.ts): the Redis command engine's one write command, a MULTI/EXEC included.
   */
  | (CommandMeta & {
      readonly type: 'ApplyOperations';
      readonly ops: readonly KeyOperation[];
      /** Decide nothing (answer `aborted`) if one of these keys changed since it was watched. */
      readonly watch?: readonly WatchedKey[];
      /** Bytes the tenant may still add; undefined means unlimited. Supplied by the shell. */
      readonly quotaRemaining?: number;
      /**
       * The service's largest value (MAX_VALUE_BYTES), supplied by the shell: values the ops
       * compute (APPEND, SETRANGE, SETBIT) are refused beyond it before they are built, as they
       * are beyond the cache's `maxValueBytes` and Redis's 512 MiB. Undefined: those two only.
       */
      readonly maxValueBytes?: number;
    })
  /** Appends the events that bring the cache back to `target` (a past state); history is never rewritten. */
  | (CommandMeta & {
      readonly type: 'RestoreTo';
      readonly target: RestoreTarget;
      /** Bytes the tenant may still add; undefined means unlimited. Supplied by the shell. */
      readonly quotaRemaining?: number;
    });

export type SetMode = 'upsert' | 'add' | 'replace';

export type CacheCommandType = CacheCommand['type'];
