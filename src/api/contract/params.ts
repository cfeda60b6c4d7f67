import { z } from 'zod';
import { ApiError } from '../errors/api-error';
import { NOT_WELL_FORMED, isWellFormed, storedText } from '../validation';

/**
 * Checks for path parameters that run on every request of the hottest routes: the same
 * rules as their zod schema (which documents them), compiled to a few string operations.
 * The validator uses the check registered here for a schema, zod for any other.
 */
const FAST_CHECKS = new WeakMap<z.ZodType, (value: string, field: string) => string>();

export const fastCheckOf = (schema: z.ZodType) => FAST_CHECKS.get(schema);



/** Text of 1 to `max` code points, well-formed Unicode: a cache name or a key in the path. */
function pathText(max: number, description: string, example: string): z.ZodType<string> {
  const schema = storedText.min(1, 'must not be empty').max(max, `must be at most ${max} characters`).meta({ description, example });
  FAST_CHECKS.set(schema, (value, field) => {
    if (typeof value !== 'string' || value.length === 0) throw ApiError.of('INVALID_REQUEST', `${field}: must not be empty`);
    // Characters are code points, as zod counts them in bodies; fewer UTF-16 units than the
    // limit are always few enough code points, so only longer text is counted.
    if (value.length > max && codePoints(value, max) > max) throw ApiError.of('INVALID_REQUEST', `${field}: must be at most ${max} characters`);
    if (!isWellFormed(value)) throw ApiError.of('INVALID_REQUEST', `${field}: ${NOT_WELL_FORMED}`);
    return value;
  });
  return schema;
}

export const cacheNameParam = pathText(255, 'a cache name: 1-255 characters of well-formed Unicode, URL-encoded', 'cache1');
export const keyParam = pathText(1024, 'a key: 1-1024 characters of well-formed Unicode, URL-encoded', 'key1');

/** `/:cacheName` */
export const CacheNameParams = z.object({ cacheName: cacheNameParam });
/** `/:cacheName/:key` */
export const CacheKeyParams = z.object({ cacheName: cacheNameParam, key: keyParam });

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
