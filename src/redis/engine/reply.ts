/**
 * The reply model of the Redis command engine, transport-free: the RESP listener encodes it
 * as RESP2 or RESP3 bytes, the HTTP family (Upstash-style) as JSON. RESP3-only shapes (map,
 * double, boolean, null) have their RESP2 rendering decided by the encoder, as Redis does.
 */
export type RedisReply =
  | { readonly t: 'simple'; readonly s: string }
  | { readonly t: 'error'; readonly s: string }
  | { readonly t: 'int'; readonly n: number | bigint }
  | { readonly t: 'bulk'; readonly b: Uint8Array }
  | { readonly t: 'null' }
  /** A null array (RESP2 `*-1`): EXEC aborted by WATCH. RESP3 renders it as `_`. */
  | { readonly t: 'nullArray' }
  | { readonly t: 'array'; readonly items: readonly RedisReply[] }
  | { readonly t: 'map'; readonly entries: ReadonlyArray<readonly [RedisReply, RedisReply]> }
  /** RESP3 set; RESP2 renders it as an array. */
  | { readonly t: 'set'; readonly items: readonly RedisReply[] }
  | { readonly t: 'double'; readonly n: number }
  | { readonly t: 'bool'; readonly v: boolean }
  /** RESP3 verbatim string (INFO, CLIENT INFO); RESP2 renders it as a bulk string. */
  | { readonly t: 'verbatim'; readonly s: string }
  /** An out-of-band message (pub/sub): RESP3 push `>`, RESP2 an array. */
  | { readonly t: 'push'; readonly items: readonly RedisReply[] }
  /** Several replies to one command, back to back (SUBSCRIBE a b answers once per channel). */
  | { readonly t: 'many'; readonly replies: readonly RedisReply[] };

export const OK: RedisReply = { t: 'simple', s: 'OK' };
export const QUEUED: RedisReply = { t: 'simple', s: 'QUEUED' };
export const NULL: RedisReply = { t: 'null' };
export const NULL_ARRAY: RedisReply = { t: 'nullArray' };
export const ZERO: RedisReply = { t: 'int', n: 0 };
export const ONE: RedisReply = { t: 'int', n: 1 };

export const simple = (s: string): RedisReply => ({ t: 'simple', s });
export const int = (n: number | bigint): RedisReply => ({ t: 'int', n });
export const bulk = (b: Uint8Array): RedisReply => ({ t: 'bulk', b });
export const text = (s: string): RedisReply => ({ t: 'bulk', b: Buffer.from(s, 'utf8') });
export const array = (items: readonly RedisReply[]): RedisReply => ({ t: 'array', items });
export const map = (entries: ReadonlyArray<readonly [RedisReply, RedisReply]>): RedisReply => ({ t: 'map', entries });
export const verbatim = (s: string): RedisReply => ({ t: 'verbatim', s });
export const bool = (v: boolean): RedisReply => ({ t: 'bool', v });
export const double = (n: number): RedisReply => ({ t: 'double', n });
export const bulkOrNull = (b: Uint8Array | undefined | null): RedisReply => (b == null ? NULL : bulk(b));

/** A map from plain field names (HELLO, CLIENT INFO style replies). */
export function fields(record: Record<string, RedisReply | string | number>): RedisReply {
  return map(
    Object.entries(record).map(([k, v]) => [text(k), typeof v === 'string' ? text(v) : typeof v === 'number' ? int(v) : v] as const),
  );
}

/** An error reply. `s` starts with the error's prefix (`ERR`, `WRONGTYPE`, `NOAUTH`, ...). */
export const error = (s: string): RedisReply => ({ t: 'error', s });

/** Thrown inside parse/execute to answer an error; the engine turns it into an error reply. */
export class RedisError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

export const isError = (reply: RedisReply): boolean => reply.t === 'error';

/** About the bytes a reply takes on the wire (its payloads plus a few bytes per element), without encoding it. */
export function replyBytes(reply: RedisReply): number {
  switch (reply.t) {
    case 'bulk':
      return reply.b.byteLength + 16;
    case 'simple':
    case 'error':
    case 'verbatim':
      return reply.s.length * 3 + 16;
    case 'array':
    case 'set':
    case 'push': {
      let n = 16;
      for (const item of reply.items) n += replyBytes(item);
      return n;
    }
    case 'many': {
      let n = 0;
      for (const one of reply.replies) n += replyBytes(one);
      return n;
    }
    case 'map': {
      let n = 16;
      for (const [k, v] of reply.entries) n += replyBytes(k) + replyBytes(v);
      return n;
    }
    default:
      return 24;
  }
}
