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

export const NOT_WELL_FORMED = 'must be well-formed Unicode (no lone surrogates)';

/** Any text that is stored or names something: refused (400) unless it round-trips through UTF-8. */
export const storedText = z.string().refine(isWellFormed, NOT_WELL_FORMED);

/** A cache name as clients send it: any text, 1 to 255 characters. */
export const cacheNameField = storedText.min(1, 'must not be empty').max(255, 'must be at most 255 characters');
/** A key: any text, 1 to 1024 characters. */
export const keyField = storedText.min(1, 'must not be empty').max(1024, 'must be at most 1024 characters');
/** Whole seconds >= 0 (0: no expiry), at most 100 years so absolute expiry stays exact. */
export const ttlSecondsField = z.number().int('must be a whole number').min(0, 'must be >= 0').max(3_153_600_000, 'must be at most 100 years');
