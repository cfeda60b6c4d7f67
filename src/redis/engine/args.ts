import { RedisError } from './reply';
import { ERR } from './errors';

const MAX_KEY_CHARS = 1024;
const MAX_CACHE_NAME_CHARS = 255;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const KEY_RULE =
  'ERR invalid key: cachelog keys are 1 to 1024 characters of valid UTF-8 (the native API\'s key rule; see docs/redis.md)';

/** Decodes bytes as UTF-8; undefined when they are not valid UTF-8 (so no two byte strings decode to one text). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function codePoints(text: string, max: number): number {
  if (text.length <= max) return text.length; // UTF-16 units >= code points
  let n = 0;
  for (const _ of text) if (++n > max) return n;
  return n;
}

/**
 * A Redis key as a cachelog key: valid UTF-8 of 1 to 1024 characters, the native API's rule,
 * so the same key is the same key over RESP and HTTP. Other byte strings are refused (the
 * store keys entries by text).
 */
export function keyArg(bytes: Buffer): string {
  if (bytes.length === 0 || bytes.length > MAX_KEY_CHARS * 4) throw new RedisError(KEY_RULE);
  const key = decodeUtf8(bytes);
  if (key === undefined || codePoints(key, MAX_KEY_CHARS) > MAX_KEY_CHARS) throw new RedisError(KEY_RULE);
  return key;
}

export const CACHE_NAME_RULE = 'ERR invalid database: a database is a cache name of 1 to 255 characters of valid UTF-8 (see docs/redis.md)';

/** A database name as a cache name (the native API's rule: 1-255 characters, well-formed). */
export function cacheNameArg(bytes: Buffer): string {
  if (bytes.length === 0 || bytes.length > MAX_CACHE_NAME_CHARS * 4) throw new RedisError(CACHE_NAME_RULE);
  const name = decodeUtf8(bytes);
  if (name === undefined || codePoints(name, MAX_CACHE_NAME_CHARS) > MAX_CACHE_NAME_CHARS) throw new RedisError(CACHE_NAME_RULE);
  return name;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Redis's string2ll: an optional '-', digits without leading zeros, within signed 64 bits; else undefined. */
export function parseInt64(bytes: Uint8Array): bigint | undefined {
  const n = bytes.length;
  if (n === 0 || n > 20) return undefined;
  let i = 0;
  if (bytes[0] === 0x2d) {
    i = 1;
    if (n === 1) return undefined;
  }
  if (bytes[i] === 0x30 && n > i + 1) return undefined; // leading zero
  if (bytes[i] === 0x30 && i === 1) return undefined; // "-0"
  for (let j = i; j < n; j++) if (bytes[j] < 0x30 || bytes[j] > 0x39) return undefined;
  const value = BigInt(Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('latin1'));
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** An integer argument (throws Redis's "not an integer" error). */
export function intArg(bytes: Buffer, message: string = ERR.notInteger): bigint {
  const value = parseInt64(bytes);
  if (value === undefined) throw new RedisError(message);
  return value;
}

/** An integer argument that must fit a JS safe integer (offsets, counts, times); beyond: `message`. */
export function safeIntArg(bytes: Buffer, message: string = ERR.notInteger): number {
  const value = intArg(bytes, message);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new RedisError(message);
  return Number(value);
}

/** Redis's string2ld for floats: no spaces, no NaN; `inf`/`-inf` allowed. Undefined when invalid. */
export function parseFloat64(bytes: Uint8Array): number | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (text.length === 0 || text.length > 5000 || /\s/.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) && !/^[+-]?0x[0-9a-f]+$/i.test(text)) return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** Lower-cased ASCII of an option word (SET's EX/PX/NX...); non-ASCII bytes never match an option. */
export const word = (bytes: Buffer): string => bytes.toString('latin1').toLowerCase();
