import { KeyPageRequest } from '../journal/inline-read-models';

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
