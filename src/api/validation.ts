import { z } from 'zod';
import { ApiError } from './errors/api-error';

/** Validates input at the edge; failures are 400 INVALID_REQUEST naming the field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ApiError(400, 'INVALID_REQUEST', `${where}: ${issue.message}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const base64Value = z.string().regex(BASE64, 'must be standard base64 (RFC 4648, padded)');

/**
 * True when `text` survives a UTF-8 round trip: no lone surrogate. Names, keys, orgs and
 * descriptions are stored and compared as UTF-8, where every lone surrogate becomes the same
 * U+FFFD, so `"\ud800n"` and `"\udc00n"` would be two caches in memory and one on disk.
 */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

const NOT_WELL_FORMED = 'must be well-formed Unicode (no lone surrogates)';

/** Any text that is stored or names something: refused (400) unless it round-trips through UTF-8. */
export const storedText = z.string().refine(isWellFormed, NOT_WELL_FORMED);

/** A cache name as clients send it: any text, 1 to 255 characters. */
export const cacheNameField = storedText.min(1, 'must not be empty').max(255, 'must be at most 255 characters');
/** A key: any text, 1 to 1024 characters. */
export const keyField = storedText.min(1, 'must not be empty').max(1024, 'must be at most 1024 characters');
/** Whole seconds >= 0 (0: no expiry), at most 100 years so absolute expiry stays exact. */
export const ttlSecondsField = z.number().int('must be a whole number').min(0, 'must be >= 0').max(3_153_600_000, 'must be at most 100 years');

export function parseTtlPath(raw: string): number {
  if (!/^\d{1,10}$/.test(raw)) throw new ApiError(400, 'INVALID_REQUEST', 'ttlSeconds: must be a whole number >= 0');
  return parseInput(ttlSecondsField, Number(raw));
}

const PATH_LIMITS = { cacheName: 255, key: 1024 } as const;

/**
 * A cacheName or key from the path: the same rules as `cacheNameField` / `keyField`,
 * checked by hand because this runs on every request of the hot routes.
 */
export function pathParam(value: string, field: 'cacheName' | 'key'): string {
  if (typeof value !== 'string' || value.length === 0) throw new ApiError(400, 'INVALID_REQUEST', `${field}: must not be empty`);
  const max = PATH_LIMITS[field];
  // Characters are code points, as zod counts them in bodies; fewer UTF-16 units than the
  // limit are always few enough code points, so only longer text is counted.
  if (value.length > max && codePoints(value, max) > max) throw new ApiError(400, 'INVALID_REQUEST', `${field}: must be at most ${max} characters`);
  if (!isWellFormed(value)) throw new ApiError(400, 'INVALID_REQUEST', `${field}: ${NOT_WELL_FORMED}`);
  return value;
}

/** Code points in `text`, counted up to `max + 1`. */
function codePoints(text: string, max: number): number {
  let count = 0;
  for (let i = 0; i < text.length && count <= max; i++, count++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}
