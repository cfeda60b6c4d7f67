import { CacheSettings } from './settings';

/**
 * Events are facts with absolute values, so replaying them is deterministic on any day:
 * a Set carries its absolute `expiresAt`, never a relative TTL.
 */
export interface EventMeta {
  /** Milliseconds since the epoch when the event was decided. */
  readonly at: number;
  /** Who caused it: the token's `name` claim (or `system` for the expiry scheduler). */
  readonly by: string;
  /** Optional device id the client sent with the request. */
  readonly device: string | null;
}

export type CacheEvent =
  | (EventMeta & { readonly type: 'Created'; readonly description: string })
  | (EventMeta & { readonly type: 'DescriptionChanged'; readonly description: string })
  | (EventMeta & { readonly type: 'CacheDeleted' })
  | (EventMeta & { readonly type: 'Flushed' })
  | (EventMeta & {
      readonly type: 'Set';
      readonly key: string;
      readonly value: Uint8Array;
      /** Absolute expiry in ms since the epoch; 0 means never. */
      readonly expiresAt: number;
    })
  | (EventMeta & { readonly type: 'Deleted'; readonly key: string })
  | (EventMeta & { readonly type: 'Expired'; readonly key: string })
  /** The whole resulting settings, not a delta. */
  | (EventMeta & { readonly type: 'SettingsChanged' } & CacheSettings)
  /** The least recently used key (chosen when decided, applied as given on replay), removed to keep the cache within its capacity. */
  | (EventMeta & { readonly type: 'Evicted'; readonly key: string })
  /**
   * A key's expiry changed and its value did not (Redis EXPIRE, PERSIST): journaled without
   * the value, so a large value is not written again. `expiresAt` is absolute; 0 means never.
   */
  | (EventMeta & { readonly type: 'ExpiryChanged'; readonly key: string; readonly expiresAt: number });

export type CacheEventType = CacheEvent['type'];
export type EventOf<T extends CacheEventType> = Extract<CacheEvent, { type: T }>;
