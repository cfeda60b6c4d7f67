import { z } from 'zod';
import { ttlSecondsField } from '../../validation';

/** Most entries a cache may be limited to. */
export const MAX_CAPACITY = 100_000_000;

/** Every field is optional: the ones sent change, the others keep their values. Unknown fields are refused. */
export const CacheSettingsDto = z.strictObject({
  capacity: z.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be >= 0 (0: unlimited)').max(MAX_CAPACITY, `must be at most ${MAX_CAPACITY}`).optional(),
  ttl: ttlSecondsField.optional(),
  maxValueBytes: z.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be >= 0 (0: the service limit)').optional(),
  cacheNullValue: z.boolean({ message: 'must be true or false' }).optional(),
});
