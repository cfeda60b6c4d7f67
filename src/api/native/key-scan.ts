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

/** A key of a rebuilt past state, with its UTF-8 bytes (the order pages walk in). */
export interface SortedKeyRow {
  readonly key: string;
  readonly utf8: Buffer;
  /** 0: never. */
  readonly expiresAt: number;
  readonly bytes: number;
}

/** Rows in UTF-8 byte order of their keys. */
export function sortKeyRows(rows: SortedKeyRow[]): SortedKeyRow[] {
  return rows.sort((a, b) => Buffer.compare(a.utf8, b.utf8));
}

/** The first index whose key is greater than `bytes` (or not less, with `inclusive`). */
function lowerBound(rows: readonly SortedKeyRow[], bytes: Buffer, inclusive: boolean): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(rows[mid].utf8, bytes);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of an in-memory sorted key list, by the same rule as the read models' `keyPage`:
 * after the cursor key, within the literal prefix, at most `examine` keys looked at and
 * `limit` returned; `last` is the last key looked at when the walk stopped early.
 */
export function pageSortedRows(rows: readonly SortedKeyRow[], now: number, request: KeyPageRequest): { rows: SortedKeyRow[]; last?: Buffer } {
  let start = request.after === undefined ? 0 : lowerBound(rows, request.after, false);
  if (request.prefix !== undefined) start = Math.max(start, lowerBound(rows, request.prefix, true));
  const out: SortedKeyRow[] = [];
  let examined = 0;
  for (let i = start; i < rows.length; i++) {
    const row = rows[i];
    if (request.prefix !== undefined && !row.utf8.subarray(0, request.prefix.length).equals(request.prefix)) break;
    examined++;
    if ((row.expiresAt === 0 || row.expiresAt > now) && request.accept(row.key)) out.push(row);
    if (i + 1 < rows.length && (out.length >= request.limit || examined >= request.examine)) return { rows: out, last: row.utf8 };
  }
  return { rows: out };
}
