import type { RedisReply } from '../engine/reply';

const CRLF = '\r\n';

/**
 * Encodes a reply as RESP2 or RESP3 (HELLO 3). RESP3-only shapes fall back as Redis does:
 * a map becomes a flat array, a set an array, a double a bulk string, a boolean 1/0, a
 * verbatim string a bulk string, null `$-1` (and a null array `*-1`).
 */
export function encodeReply(reply: RedisReply, resp: 2 | 3): Buffer {
  const parts: Array<string | Uint8Array> = [];
  write(reply, resp, parts);
  if (parts.length === 1 && typeof parts[0] === 'string') return Buffer.from(parts[0], 'utf8');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

const clean = (s: string) => s.replace(/[\r\n]/g, ' ');

function write(reply: RedisReply, resp: 2 | 3, out: Array<string | Uint8Array>): void {
  switch (reply.t) {
    case 'simple':
      out.push(`+${clean(reply.s)}${CRLF}`);
      return;
    case 'error':
      out.push(`-${clean(reply.s)}${CRLF}`);
      return;
    case 'int':
      out.push(`:${reply.n}${CRLF}`);
      return;
    case 'bulk':
      out.push(`$${reply.b.byteLength}${CRLF}`, reply.b, CRLF);
      return;
    case 'null':
      out.push(resp === 3 ? `_${CRLF}` : `$-1${CRLF}`);
      return;
    case 'nullArray':
      out.push(resp === 3 ? `_${CRLF}` : `*-1${CRLF}`);
      return;
    case 'push':
      out.push(`${resp === 3 ? '>' : '*'}${reply.items.length}${CRLF}`);
      for (const item of reply.items) write(item, resp, out);
      return;
    case 'many':
      for (const one of reply.replies) write(one, resp, out);
      return;
    case 'array':
    case 'set':
      out.push(`${reply.t === 'set' && resp === 3 ? '~' : '*'}${reply.items.length}${CRLF}`);
      for (const item of reply.items) write(item, resp, out);
      return;
    case 'map':
      out.push(resp === 3 ? `%${reply.entries.length}${CRLF}` : `*${reply.entries.length * 2}${CRLF}`);
      for (const [k, v] of reply.entries) {
        write(k, resp, out);
        write(v, resp, out);
      }
      return;
    case 'double': {
      const text = Number.isFinite(reply.n) ? String(reply.n) : reply.n > 0 ? 'inf' : reply.n < 0 ? '-inf' : 'nan';
      out.push(resp === 3 ? `,${text}${CRLF}` : `$${Buffer.byteLength(text)}${CRLF}${text}${CRLF}`);
      return;
    }
    case 'bool':
      out.push(resp === 3 ? `#${reply.v ? 't' : 'f'}${CRLF}` : `:${reply.v ? 1 : 0}${CRLF}`);
      return;
    case 'verbatim': {
      const body = Buffer.from(reply.s, 'utf8');
      out.push(resp === 3 ? `=${body.length + 4}${CRLF}txt:` : `$${body.length}${CRLF}`, body, CRLF);
      return;
    }
  }
}
