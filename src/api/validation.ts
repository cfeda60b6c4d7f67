import { z } from 'zod';
import { ApiError } from './errors/api-error';

/** Validates input at the edge; failures are 400 INVALID_REQUEST naming the field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw ApiError.of('INVALID_REQUEST', `${where}: ${issue.message}`);
}

/** True for a base64 alphabet character (A-Z, a-z, 0-9, +, /). */
function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * Standard padded base64 (RFC 4648), by one linear scan. A regular expression with a repeated
 * group recursed per 4 characters in V8 and overflowed the stack on values near
 * MAX_VALUE_BYTES (a 500 for a value the service takes).
 */
export function isStandardBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  const padding = length === 0 ? 0 : text.charCodeAt(length - 1) !== 61 ? 0 : text.charCodeAt(length - 2) === 61 ? 2 : 1;
  for (let i = 0; i < length - padding; i++) if (!isBase64Char(text.charCodeAt(i))) return false;
  return true;
}

export const base64Value = z.string().refine(isStandardBase64, 'must be standard base64 (RFC 4648, padded)');

/**
 * True when `text` survives a UTF-8 round trip: no lone surrogate. Names, keys, orgs and
 * descriptions are stored and compared as UTF-8, where every lone surrogate becomes the same
 * U+FFFD, so `"\ud800n"` and `"\udc00n"` would be two caches in memory and one on disk.
 */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

export const NOT_WELL_FORMED = 'must be well-formed Unicode (no lone surrogates)';

/** Any text that is stored or names something: refused (400) unless it round-trips through UTF-8. */
export const storedText = z.string().refine(isWellFormed, NOT_WELL_FORMED);

/** A cache name as clients send it: any text, 1 to 255 characters. */
export const cacheNameField = storedText.min(1, 'must not be empty').max(255, 'must be at most 255 characters');
/** A key: any text, 1 to 1024 characters. */
export const keyField = storedText.min(1, 'must not be empty').max(1024, 'must be at most 1024 characters');
/** Whole seconds >= 0 (0: no expiry), at most 100 years so absolute expiry stays exact. */
export const ttlSecondsField = z.number().int('must be a whole number').min(0, 'must be >= 0').max(3_153_600_000, 'must be at most 100 years');
