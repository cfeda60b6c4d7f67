import { KeyPageRequest } from '../../journal/inline-read-models';
import { globLiteralPrefix, keyMatcher } from '../../redis/engine/glob';
import { ApiError } from '../errors/api-error';
import { DEFAULT_SCAN_COUNT, KeysQuery } from './native.contracts';

/** A page looks at this many keys per key it may return: bounded work when the match is sparse. */
export const EXAMINED_PER_KEY = 10;
/** The longest key is 1024 code points, at most 4096 bytes of UTF-8. */
const MAX_KEY_BYTES = 4096;

/**
 * The scan cursor of `GET /cacheName/:c/keys?cursor=`: the last key a page looked at, as
 * base64url of its UTF-8 bytes; `"0"` starts a scan and ends one, as in Redis. The key
 * listing is in byte order of the key, so the next page starts right after that key whatever
 * was written meanwhile. Stateless: valid on any node and after a restart.
 */
export function encodeCursor(last: Buffer | undefined): string {
  return last === undefined ? '0' : last.toString('base64url');
}

/** The bytes to continue after; undefined for `"0"`. A 400 for text no page answered. */
export function decodeCursor(cursor: string): Buffer | undefined {
  if (cursor === '0') return undefined;
  const bytes = Buffer.from(cursor, 'base64url');
  // Only the canonical spelling: what a page answered decodes and encodes back to itself.
  if (bytes.length === 0 || bytes.length > MAX_KEY_BYTES || bytes.toString('base64url') !== cursor) {
    throw ApiError.of('INVALID_REQUEST', 'cursor: not a cursor a page of this listing answered (cursor=0 starts a scan)');
  }
  return bytes;
}

/** A scan page's query as a read-model page request: Redis's glob matcher, seeking to the pattern's literal prefix. */
export function keyPageRequest(query: KeysQuery): KeyPageRequest {
  const count = query.count ?? DEFAULT_SCAN_COUNT;
  const pattern = query.match === undefined ? undefined : Buffer.from(query.match, 'utf8');
  const prefix = pattern === undefined ? undefined : globLiteralPrefix(pattern);
  return {
    after: decodeCursor(query.cursor ?? '0'),
    prefix: prefix !== undefined && prefix.length > 0 ? prefix : undefined,
    examine: count * EXAMINED_PER_KEY,
    limit: count,
    accept: keyMatcher(pattern),
  };
}
