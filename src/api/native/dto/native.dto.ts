import { z } from 'zod';
import { base64Value, cacheNameField, keyField, storedText, ttlSecondsField } from '../../validation';

export const CacheNameCreateDto = z.object({
  cacheName: cacheNameField,
  description: storedText.max(4096, 'must be at most 4096 characters').optional(),
});

export const CacheRequestDto = z.object({
  cacheName: cacheNameField,
  key: keyField,
  value: base64Value,
  ttlSeconds: ttlSecondsField.nullish(),
});
export type CacheRequest = z.infer<typeof CacheRequestDto>;

export const BatchCacheRequestDto = z.object({
  cacheRequests: z.array(CacheRequestDto).max(10_000, 'at most 10000 elements'),
});

export const CacheKeyDto = z.object({ cacheName: cacheNameField, key: keyField });

export const BatchGetRequestDto = z.object({
  getCachedBatch: z.array(CacheKeyDto).max(10_000, 'at most 10000 elements'),
});
