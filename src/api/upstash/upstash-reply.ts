import type { RedisReply } from '../../redis/engine/reply';

/**
 * A Redis reply as the JSON of Upstash's REST API, written as text (integers beyond 2^53 stay
 * exact). As Upstash answers from RESP2: a map is a flat array of keys and values, a double a
 * string, a boolean 1 or 0, null (and a null array) `null`. Strings are the reply's bytes as
 * UTF-8 (an invalid sequence becomes U+FFFD), or with `base64` every string but `OK` is base64
 * of its bytes, as `Upstash-Encoding: base64` asks.
 */
export function replyJson(reply: RedisReply, base64: boolean): string {
  switch (reply.t) {
    case 'simple':
      return base64 && reply.s !== 'OK' ? quote(Buffer.from(reply.s, 'utf8').toString('base64')) : JSON.stringify(reply.s);
    case 'error':
      return JSON.stringify(reply.s);
    case 'int':
      return String(reply.n);
    case 'bulk':
      return base64 ? quote(Buffer.from(reply.b.buffer, reply.b.byteOffset, reply.b.byteLength).toString('base64')) : JSON.stringify(Buffer.from(reply.b.buffer, reply.b.byteOffset, reply.b.byteLength).toString('utf8'));
    case 'verbatim':
      return base64 ? quote(Buffer.from(reply.s, 'utf8').toString('base64')) : JSON.stringify(reply.s);
    case 'double': {
      const text = Number.isFinite(reply.n) ? String(reply.n) : reply.n > 0 ? 'inf' : reply.n < 0 ? '-inf' : 'nan';
      return base64 ? quote(Buffer.from(text).toString('base64')) : quote(text);
    }
    case 'bool':
      return reply.v ? '1' : '0';
    case 'null':
    case 'nullArray':
      return 'null';
    case 'array':
    case 'set':
    case 'push':
      return `[${reply.items.map((item) => replyJson(item, base64)).join(',')}]`;
    case 'many':
      return `[${reply.replies.map((item) => replyJson(item, base64)).join(',')}]`;
    case 'map':
      return `[${reply.entries.map(([k, v]) => `${replyJson(k, base64)},${replyJson(v, base64)}`).join(',')}]`;
  }
}

/** base64 needs no escaping. */
const quote = (text: string): string => `"${text}"`;

/** One answer of Upstash's: `{"result": ...}`, or `{"error": "..."}` for an error reply. */
export function resultJson(reply: RedisReply, base64: boolean): string {
  return reply.t === 'error' ? `{"error":${JSON.stringify(reply.s)}}` : `{"result":${replyJson(reply, base64)}}`;
}
