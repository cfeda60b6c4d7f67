import { z } from 'zod';
import { storedText } from '../../validation';

/** `expires_in`: at most 30 days; 0 or absent uses the cache's default TTL. */
export const MAX_EXPIRES_IN = 2_592_000;

const casField = z.union([
  z.number().int('must be a whole number').positive('must be > 0'),
  z.string().regex(/^[1-9]\d{0,14}$/, 'must be a cas value from a GET'),
]);

export const PutItemDto = z
  .object({
    value: z.union([storedText, z.number().finite()], { message: 'must be a string or a number' }),
    expires_in: z.number().int('must be a whole number').min(0, 'must be >= 0').max(MAX_EXPIRES_IN, `must be at most ${MAX_EXPIRES_IN}`).optional(),
    replace: z.boolean({ message: 'must be true or false' }).optional(),
    add: z.boolean({ message: 'must be true or false' }).optional(),
    cas: casField.optional(),
  })
  .refine((item) => !(item.add && item.replace), { message: 'add and replace cannot both be true', path: ['add'] })
  .refine((item) => !(item.add && item.cas !== undefined), { message: 'add cannot be combined with cas', path: ['add'] });

export const IncrementDto = z.object({
  amount: z.number().int('must be a whole number').min(-Number.MAX_SAFE_INTEGER, 'is too small').max(Number.MAX_SAFE_INTEGER, 'is too large'),
});

const pageNumber = (name: string, fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const n = Number(raw);
      if (!/^\d{1,3}$/.test(raw) || n < min || n > 100) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number between ${min} and 100` });
        return z.NEVER;
      }
      return n;
    });

export const ListCachesQueryDto = z.object({
  page: pageNumber('page', 0, 0),
  per_page: pageNumber('per_page', 30, 1),
});
