import { ApiError } from '../errors/api-error';
import { parseBoundedJson } from '../edge/json-body';

/** A request the Upstash family refuses as a whole: 400, `{"error": "ERR ..."}`, nothing run. */
export const badInput = (text: string): ApiError => ApiError.of('INVALID_REQUEST', `ERR ${text}`);

/** Commands that hold a connection's state across requests: each HTTP request is its own session, so they mean nothing here. */
export const SESSION_COMMANDS: ReadonlySet<string> = new Set([
  'auth', 'hello', 'select', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'quit', 'reset', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe',
]);

export const notOverHttp = (name: string): string =>
  `ERR Command is not available over HTTP: '${name.slice(0, 64)}' (each request is its own session; use /multi-exec for a transaction, see docs/redis.md)`;

/**
 * One command from JSON: a non-empty array of strings and numbers (Upstash takes numbers as
 * arguments: `["SETEX","k",13,"v"]`), each an argument's bytes: a string as UTF-8, a number as
 * its shortest decimal text (a whole number beyond 2^53 has lost digits in JSON already, so it
 * is refused: send it as a string). Anything else (an object, a nested array, true, null) is
 * refused, naming where it is.
 */
export function commandOf(value: unknown, where: string): Buffer[] {
  if (!Array.isArray(value)) throw badInput(`${where} must be a JSON array of strings and numbers: ["SET","key","value"]`);
  if (value.length === 0) throw badInput(`${where} is empty: a command needs at least its name`);
  const args: Buffer[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item === 'string') args[i] = Buffer.from(item, 'utf8');
    else if (typeof item === 'number') {
      if (Number.isInteger(item) && !Number.isSafeInteger(item)) throw badInput(`${where}[${i}]: the number ${item} is beyond 2^53 and not exact in JSON; send it as a string`);
      args[i] = Buffer.from(String(item), 'latin1');
    } else throw badInput(`${where}[${i}] must be a string or a number, not ${Array.isArray(item) ? 'an array' : item === null ? 'null' : typeof item}`);
  }
  return args;
}

/** A pipeline's or transaction's commands: a non-empty JSON array of commands, at most `max`. */
export function commandsOf(value: unknown, max: number, setting: string): Buffer[][] {
  if (!Array.isArray(value)) throw badInput('the body must be a JSON array of commands: [["SET","k","v"],["GET","k"]]');
  if (value.length === 0) throw badInput('the body has no commands');
  if (value.length > max) throw badInput(`${value.length} commands in one request; at most ${max} (${setting})`);
  return value.map((command, i) => commandOf(command, `command ${i + 1}`));
}

/** A JSON body, read as the edge reads JSON (depth first, then JSON.parse), whatever its content type. */
export function jsonBody(body: unknown, maxDepth: number): unknown {
  if (body === undefined || body === null || (Buffer.isBuffer(body) && body.length === 0)) throw badInput('the request has no body: send the command as a JSON array');
  if (!Buffer.isBuffer(body)) return body;
  try {
    return parseBoundedJson(body.toString('utf8'), maxDepth);
  } catch (error) {
    throw badInput((error as Error).message);
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** A URL path segment or query part as bytes: `%XX` escapes decoded (any bytes), the rest as sent; `plus`: `+` is a space (query strings). */
export function percentDecode(text: string, plus = false): Buffer {
  if (!text.includes('%') && !(plus && text.includes('+'))) return Buffer.from(text, 'latin1');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw badInput(`malformed percent-encoding in the URL at "${text.slice(i, i + 3)}"`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (plus && c === 0x2b) bytes.push(0x20);
    else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes);
}

/**
 * A command from a URL: the path's segments after the prefix (`/set/foo/bar`), then the body
 * (POST/PUT: the last argument before the options), then the query's parameters as options
 * (`?EX=100&NX` → `EX 100 NX`; `_token` is the token, not an option). Empty segments are
 * skipped, as a client's doubled slash would otherwise add an empty argument.
 */
export function pathCommand(segments: readonly string[], query: string, body: Buffer | undefined): Buffer[] {
  const args = segments.filter((segment) => segment.length > 0).map((segment) => percentDecode(segment));
  if (body !== undefined) args.push(body);
  if (query.length > 0) {
    for (const part of query.split('&')) {
      if (part.length === 0) continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (name === '_token') continue;
      args.push(percentDecode(name, true));
      const value = eq < 0 ? '' : part.slice(eq + 1);
      if (value.length > 0) args.push(percentDecode(value, true));
    }
  }
  return args;
}

/** `upstash-sync-token`: empty (a client's first request) or a sequence number this service answered. */
export function syncTokenOf(header: string | string[] | undefined): number {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) throw badInput(`upstash-sync-token must be a token this service answered (a sequence number), got ${JSON.stringify(raw.slice(0, 40))}`);
  return Number(raw);
}
