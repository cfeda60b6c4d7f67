import { z } from 'zod';
import { base64Value, cacheNameField, keyField, storedText, ttlSecondsField } from '../../validation';

export const CacheNameCreateDto = z.object({
  cacheName: cacheNameField,
  description: storedText.max(4096, 'must be at most 4096 characters').optional(),
});

export type CacheNameCreate = z.infer<typeof CacheNameCreateDto>;

export const CacheRequestDto = z.object({
  cacheName: cacheNameField,
  key: keyField,
  value: base64Value,
  ttlSeconds: ttlSecondsField.nullish(),
});
export type CacheRequest = z.infer<typeof CacheRequestDto>;

/** What a batch longer than MAX_BATCH_ELEMENTS is told. */
export const batchLimit = (maxElements: number) => ({ max: maxElements, message: `at most ${maxElements} elements (MAX_BATCH_ELEMENTS)` });

/** A batch of at most `maxElements` sets (MAX_BATCH_ELEMENTS). */
export const batchCacheRequestDto = (maxElements: number) =>
  z.object({
    cacheRequests: z.array(CacheRequestDto).max(maxElements, batchLimit(maxElements).message),
  });

export type BatchCacheRequest = z.infer<ReturnType<typeof batchCacheRequestDto>>;

export const CacheKeyDto = z.object({ cacheName: cacheNameField, key: keyField });

/** A batch of at most `maxElements` keys to get or delete (MAX_BATCH_ELEMENTS). */
export const batchGetRequestDto = (maxElements: number) =>
  z.object({
    getCachedBatch: z.array(CacheKeyDto).max(maxElements, batchLimit(maxElements).message),
  });
export type BatchGetRequest = z.infer<ReturnType<typeof batchGetRequestDto>>;
