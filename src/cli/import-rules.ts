import { z } from 'zod';
import { MAX_DEVICE_ID } from '../api/cache.service';
import { CacheNameCreateDto } from '../api/native/dto/native.dto';
import { CacheSettingsDto } from '../api/native/dto/settings.dto';
import { maxValueBytesBeyondService } from '../api/native/settings.controller';
import { cacheNameField, keyField, storedText } from '../api/validation';
import { MAX_CLAIM_LENGTH } from '../auth/auth.service';
import { CacheEvent } from '../domain';
import { EntityRef } from '../journal/keys';

/**
 * The latest time a Date can hold (ms since the epoch). History pages, the event stream and the
 * expiry index render event times and expiries as dates: beyond it they would fail at every read.
 */
export const MAX_TIME = 8.64e15;

const orgClaim = storedText.min(1, 'must not be empty').max(MAX_CLAIM_LENGTH, `must be at most ${MAX_CLAIM_LENGTH} characters (a token's org claim)`);
const nameClaim = storedText.max(MAX_CLAIM_LENGTH, `must be at most ${MAX_CLAIM_LENGTH} characters (a token's name claim)`);
const deviceId = storedText.min(1).max(MAX_DEVICE_ID, `must be at most ${MAX_DEVICE_ID} characters (X-Device-Id)`).nullable();
const time = z.number().max(MAX_TIME, `must be at most ${MAX_TIME} (the latest time a date holds)`);
const description = CacheNameCreateDto.shape.description;

/**
 * Why an imported event is not one the API could have written, or undefined when it is. The
 * checks are the API's own: the schemas its routes validate names, keys, descriptions and
 * settings with (src/api), the token's claim limits, the service's MAX_VALUE_BYTES; and times a
 * date can hold. An import of anything else left caches that failed later (a TTL of 10^15 s made
 * every write's expiry unrenderable and ended the process at the next event stream).
 */
export function importRuleBroken(ref: EntityRef, event: CacheEvent, maxValueBytes: number): string | undefined {
  const broken =
    check('org', orgClaim, ref.org) ??
    check('cacheName', cacheNameField, ref.name) ??
    check('by', nameClaim, event.by) ??
    check('device', deviceId, event.device) ??
    check('at', time, event.at);
  if (broken !== undefined) return broken;
  switch (event.type) {
    case 'Created':
    case 'DescriptionChanged':
      return check('description', description, event.description);
    case 'Set':
      if (event.value.byteLength > maxValueBytes) return `value: ${event.value.byteLength} bytes, more than the service's MAX_VALUE_BYTES (${maxValueBytes})`;
      return check('key', keyField, event.key) ?? check('expiresAt', time, event.expiresAt);
    case 'ExpiryChanged':
      return check('key', keyField, event.key) ?? check('expiresAt', time, event.expiresAt);
    case 'Deleted':
    case 'Expired':
    case 'Evicted':
      return check('key', keyField, event.key);
    case 'SettingsChanged': {
      const settings = { capacity: event.capacity, ttl: event.ttlSeconds, maxValueBytes: event.maxValueBytes, cacheNullValue: event.cacheNullValue };
      return check('settings', CacheSettingsDto, settings) ?? maxValueBytesBeyondService(event.maxValueBytes, maxValueBytes);
    }
    case 'CacheDeleted':
    case 'Flushed':
      return undefined;
  }
}

function check(field: string, schema: z.ZodType, value: unknown): string | undefined {
  const result = schema.safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  return `${[field, ...issue.path].join('.')}: ${issue.message}`;
}
