import { z } from 'zod';
import { storedText } from '../../validation';
import { INT64_MAX, INT64_MIN } from '../../../domain/decide';
import { LosslessNumber, exactInteger, isLosslessNumber } from '../../../families/ironcache-json';

/** `expires_in`: at most 30 days; 0 or absent uses the cache's default TTL. */
export const MAX_EXPIRES_IN = 2_592_000;

/** A JSON number of an IronCache body, as its exact source text (see ironcache-json.ts). */
const jsonNumber = z.custom<LosslessNumber>((value) => isLosslessNumber(value), { message: 'must be a number' }).meta({ type: 'number' });

/** A small whole number (a count of seconds, a cas): exact as a JS number. */
const wholeNumber = (min: number, max: number, tooSmall: string, tooLarge: string) =>
  jsonNumber.transform((n, ctx) => {
    const value = exactInteger(n.value);
    if (value === undefined) ctx.addIssue({ code: 'custom', message: `must be a whole number (${n.value} is not)` });
    else if (value < BigInt(min)) ctx.addIssue({ code: 'custom', message: tooSmall });
    else if (value > BigInt(max)) ctx.addIssue({ code: 'custom', message: tooLarge });
    else return Number(value);
    return z.NEVER;
  });

const casField = z.union([
  wholeNumber(1, 999_999_999_999_999, 'must be > 0', 'must be a cas value from a GET'),
  z.string().regex(/^[1-9]\d{0,14}$/, 'must be a cas value from a GET'),
]);

export const PutItemDto = z
  .object({
    /** Stored as text: a string as it is, a number as the exact decimal text sent (`9007199254740993` stays so). */
    value: z.union([storedText, jsonNumber.transform((n) => n.value)], { message: 'must be a string or a number' }),
    expires_in: wholeNumber(0, MAX_EXPIRES_IN, 'must be >= 0', `must be at most ${MAX_EXPIRES_IN}`).optional(),
    replace: z.boolean({ message: 'must be true or false' }).optional(),
    add: z.boolean({ message: 'must be true or false' }).optional(),
    cas: casField.optional(),
  })
  .refine((item) => !(item.add && item.replace), { message: 'add and replace cannot both be true', path: ['add'] })
  .refine((item) => !(item.add && item.cas !== undefined), { message: 'add cannot be combined with cas', path: ['add'] });

/** The increment's amount: any 64-bit signed integer, exactly (BigInt). */
export const IncrementDto = z.object({
  amount: jsonNumber.transform((n, ctx) => {
    const amount = exactInteger(n.value);
    if (amount === undefined) ctx.addIssue({ code: 'custom', message: `must be an integer (${n.value} has a fraction)` });
    else if (amount < INT64_MIN || amount > INT64_MAX) {
      ctx.addIssue({ code: 'custom', message: `${n.value} is outside the 64-bit signed integer range (${INT64_MIN} to ${INT64_MAX})` });
    } else return amount;
    return z.NEVER;
  }),
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
