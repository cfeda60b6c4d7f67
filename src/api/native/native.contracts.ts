import { z } from 'zod';
import { AppConfig } from '../../config/config';
import { CacheKeyParams, CacheNameParams, cacheNameParam, keyParam } from '../contract/params';
import { ttlSecondsField } from '../validation';
import { RouteContract, empty, error, json, named } from '../contract/route-contract';
import { PointQueryDto } from '../history/point-in-time';
import { CacheKeyDto, CacheNameCreateDto, CacheRequestDto, batchCacheRequestDto, batchGetRequestDto, batchLimit } from './dto/native.dto';

// Examples are those of the Akka-Cache REST API document.
const VALUE_ONE = 'dGhpcyBpcyB0aGUgcGF5bG9hZCBvZiBvbmU=';
const VALUE_TWO = 'dGhpcyBpcyB0aGUgcGF5bG9hZCBvZiB0d28=';

const CacheNameInfo = named('CacheNameInfo', z.object({
  cacheName: z.string(),
  description: z.string(),
  deleted: z.boolean(),
  keyCount: z.number().int().meta({ description: 'keys stored (a key that just expired counts until its Expired event is journaled, a moment later); 0 for a deleted cache' }),
  valueBytes: z.number().int().meta({ description: "sum of the stored values' byte lengths, counted as keyCount is" }),
}));
const CacheKeys = named('CacheKeys', z.object({
  cacheName: z.string(),
  keys: z.array(z.string()),
  cursor: z.string().optional().meta({ description: 'with `?cursor=` only: where the next page starts; `"0"` when the scan is complete' }),
  expiresAt: z.array(z.string().nullable()).optional().meta({ description: 'with `?withExpiry=true` only: the expiry of `keys[i]`, an ISO 8601 time, or null when it never expires' }),
  valueBytes: z.array(z.number().int()).optional().meta({ description: "with `?withSize=true` only: the byte length of `keys[i]`'s value" }),
}));
/** The longest cursor: a key of 1024 code points is at most 4096 UTF-8 bytes, 5462 base64url characters. */
export const MAX_CURSOR_CHARS = 5462;
/** Keys a scan page returns at most. */
export const MAX_SCAN_COUNT = 1000;
export const DEFAULT_SCAN_COUNT = 100;
/** A match pattern's longest text (the matcher's work grows with pattern times key length). */
export const MAX_MATCH_CHARS = 512;
const scanCount = `must be a whole number from 1 to ${MAX_SCAN_COUNT}`;
const KeysQueryDto = PointQueryDto.extend({
  cursor: z
    .string()
    .max(MAX_CURSOR_CHARS, `must be at most ${MAX_CURSOR_CHARS} characters`)
    .regex(/^(?:0|[A-Za-z0-9_-]+)$/, 'must be "0" (to start a scan) or the cursor a page answered')
    .optional()
    .meta({ description: 'starts (`0`) or continues a scan: the answer is one page of keys and the next cursor, `"0"` when complete. Without it, every key at once', example: '0' }),
  match: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_MATCH_CHARS, `must be at most ${MAX_MATCH_CHARS} characters`)
    .optional()
    .meta({ description: "only keys matching this glob, as Redis's MATCH: `*`, `?` (one byte), `[abc]`, `[^a]`, `[a-z]`, `\\` escapes", example: 'user:*' }),
  count: z
    .string()
    .regex(/^\d{1,7}$/, scanCount)
    .transform(Number)
    .pipe(z.number().int().min(1, scanCount).max(MAX_SCAN_COUNT, scanCount))
    .optional()
    .meta({ description: `keys a page returns at most (default ${DEFAULT_SCAN_COUNT}); a page looks at no more than 10 × count keys, so a sparse match may answer fewer, even none, before the scan is complete`, example: '100' }),
  withExpiry: z.enum(['true', 'false'], 'must be true or false').optional().meta({ description: 'adds `expiresAt`, one per key' }),
  withSize: z.enum(['true', 'false'], 'must be true or false').optional().meta({ description: 'adds `valueBytes`, one per key' }),
}).superRefine((query, ctx) => {
  if (query.cursor === undefined) {
    for (const field of ['match', 'count', 'withExpiry', 'withSize'] as const) {
      if (query[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'only with cursor (cursor=0 starts a scan)' });
    }
  }
});
export type KeysQuery = z.infer<typeof KeysQueryDto>;
const CacheNameRow = named('CacheNameRow', z.object({ cacheName: z.string(), description: z.string() }));
const CachedValue = named('CachedValue', z.object({
  cacheName: z.string(),
  key: z.string(),
  success: z.boolean(),
  value: z.string().meta({ description: 'base64; "" on a miss' }),
  expiresAt: z.string().nullable().optional().meta({ description: "GET /get only, current reads: the key's expiry, an ISO 8601 time; null when it never expires (or on a miss)" }),
}));
const ElementResult = named('ElementResult', z.object({ cacheName: z.string(), key: z.string(), success: z.boolean() }));
named('CacheNameCreate', CacheNameCreateDto);
named('CacheRequest', CacheRequestDto);

// Refusals the native API answers 400 (the catalogue's status for a domain rejection).
const noCache = error('the cache does not exist (CACHE_NOT_FOUND)', 'CACHE_NOT_FOUND');
const refusedWrite = error('the org has reached its byte quota or disk budget, or the cache does not store empty values', 'QUOTA_EXCEEDED', 'DISK_BUDGET_EXCEEDED', 'EMPTY_VALUE_REJECTED');
const cacheLimit = error('CACHE_LIMIT_REACHED: the org has its maximum number of caches', 'CACHE_LIMIT_REACHED');
const valueTooLarge = error('the value is larger than MAX_VALUE_BYTES or the cache\'s maxValueBytes', 'VALUE_TOO_LARGE');
// A point-in-time read (`?at=`, `?asOf=`) can answer these besides the shared ones.
const compacted = error('that point was compacted away (HISTORY_COMPACTED)', 'HISTORY_COMPACTED');
const tooCostly = error('reading that point would replay more than POINT_IN_TIME_MAX_EVENTS events, or decode more than POINT_IN_TIME_MAX_BYTES', 'POINT_IN_TIME_TOO_COSTLY', 'POINT_IN_TIME_TOO_LARGE');
const pointsRunning = error('the org has POINT_IN_TIME_MAX_PER_ORG point-in-time reads running', 'TOO_MANY_POINT_IN_TIME_READS');
const pointInTimeErrors = { 410: compacted, 422: tooCostly, 429: pointsRunning };

const readEtag = { etag: 'the cache version, `"v<seq>"` (`"at<seq>"` for a point-in-time read); `If-None-Match` answers 304' };
const binaryValue = {
  description: 'the value',
  contentType: 'application/octet-stream',
  schema: z.string().meta({ format: 'binary' }),
  headers: { ...readEtag, 'x-cachelog-expires-at': "the key's expiry, an ISO 8601 time (`2026-01-01T12:00:00.000Z`); absent when the key never expires, and on a point-in-time read" },
};
const rawBody = { contentType: 'application/octet-stream', example: 'this is the payload of one', size: 'value-raw' } as const;
const pointInTime = 'With `?at=<seq>` or `?asOf=<ISO time>`: as it was then.';

export const NativeContracts = {
  createName: {
    family: 'native',
    summary: 'Create a cache name (or change its description, or revive a deleted name)',
    body: { contentType: 'application/json', schema: CacheNameCreateDto, example: { cacheName: 'cache1', description: 'This is our first test' } },
    responses: { 201: empty('created'), 400: error('the org has reached its byte quota or disk budget', 'QUOTA_EXCEEDED', 'DISK_BUDGET_EXCEEDED'), 409: cacheLimit },
  },
  updateName: {
    family: 'native',
    summary: "Change a cache name's description",
    body: { contentType: 'application/json', schema: CacheNameCreateDto, example: { cacheName: 'cache1', description: 'This is our first test modified' } },
    responses: { 202: empty('changed'), 400: noCache },
  },
  listNames: {
    family: 'native',
    summary: 'Live cache names of your org',
    responses: { 200: json(named('CacheNameList', z.array(CacheNameRow)), 'names', [{ cacheName: 'cache1', description: 'This is our first test' }]) },
  },
  getName: {
    family: 'native',
    summary: 'A cache name, whether it is deleted, and how many keys and value bytes it holds',
    description: 'keyCount and valueBytes are counters the cache keeps, not a count of its keys: the answer costs the same for any size.',
    params: CacheNameParams,
    responses: { 200: json(CacheNameInfo, 'the name', { cacheName: 'cache1', description: 'This is our first test', deleted: false, keyCount: 2, valueBytes: 52 }), 400: error('the name never existed (CACHE_NOT_FOUND)', 'CACHE_NOT_FOUND') },
  },
  deleteName: {
    family: 'native',
    summary: 'Delete a cache name and its keys',
    params: CacheNameParams,
    responses: { 202: empty('deleted'), 400: error('the cache is not live (CACHE_NOT_FOUND)', 'CACHE_NOT_FOUND') },
  },
  flush: {
    family: 'native',
    summary: 'Remove every key of a cache (the name stays)',
    params: CacheNameParams,
    responses: { 202: empty('flushed'), 400: noCache },
  },
  keys: {
    family: 'native',
    summary: 'Live keys of a cache, all at once or a page at a time (`?cursor=`), now or at a past point',
    description:
      `${pointInTime} With \`?cursor=0\` (and \`match\`, \`count\`, \`withExpiry\`, \`withSize\`): one page of keys in byte order and the cursor of the next page, \`"0"\` when the scan is complete, as Redis's SCAN: ` +
      'a key present for the whole scan is returned once, whatever is written between pages; a key written or deleted meanwhile may or may not be. ' +
      'A page looks at 10 × count keys at most (from the literal start of `match`, e.g. `user:` of `user:*`, when it has one): its cost does not grow with the cache. ' +
      'With `at` or `asOf` too, the pages walk the keys of that point (every one of them exactly once: a past point does not change). ' +
      'The point is rebuilt once, as any point-in-time read, and its sorted keys are kept for the next pages a while; a page after they were let go rebuilds it (the same answer, a rebuild\'s cost).',
    params: CacheNameParams,
    query: KeysQueryDto,
    responses: { 200: { ...json(CacheKeys, 'the keys (a page of them, with `cursor`)', { cacheName: 'cache1', keys: ['key31', 'key32'], cursor: 'a2V5MzI' }), headers: readEtag }, 304: empty('not modified (If-None-Match)'), 400: noCache, ...pointInTimeErrors },
  },
  getJson: {
    family: 'native',
    summary: 'A value as base64 JSON',
    description: pointInTime,
    params: CacheKeyParams,
    query: PointQueryDto,
    responses: {
      200: { ...json(CachedValue, 'hit (`success: true`) or miss (`success: false, value: ""`)', { cacheName: 'cache1', key: 'key2', success: true, value: 'VGhpcyBpcyBvdXIgc2Vjb25kIHRlc3Q=' }), headers: readEtag },
      304: empty('not modified (If-None-Match)'),
      400: error('the cache did not exist at that point (CACHE_NOT_FOUND)', 'CACHE_NOT_FOUND'),
      ...pointInTimeErrors,
    },
  },
  setJson: {
    family: 'native',
    summary: 'Set a value given as base64 JSON',
    body: { contentType: 'application/json', schema: CacheRequestDto, example: { cacheName: 'cache1', key: 'key1', value: VALUE_ONE }, size: 'value-json' },
    responses: { 201: empty('stored (durable)'), 400: refusedWrite, 409: cacheLimit, 413: valueTooLarge },
  },
  getBinary: {
    family: 'native',
    summary: 'A value as bytes',
    description: pointInTime,
    params: CacheKeyParams,
    query: PointQueryDto,
    responses: { 200: binaryValue, 304: empty('not modified (If-None-Match)'), 400: error('the cache did not exist at that point (CACHE_NOT_FOUND)', 'CACHE_NOT_FOUND'), 404: error('no such key (KEY_NOT_FOUND, answered 404 here as the Akka-Cache API does)', 'KEY_NOT_FOUND'), ...pointInTimeErrors },
  },
  setBinary: {
    family: 'native',
    summary: 'Set a value (the raw body; any content type but JSON)',
    params: CacheKeyParams,
    body: rawBody,
    responses: { 201: empty('stored (durable)'), 400: refusedWrite, 409: cacheLimit, 413: valueTooLarge, 415: error('a JSON body (use POST /set)', 'UNSUPPORTED_MEDIA_TYPE') },
  },
  setBinaryWithTtl: {
    family: 'native',
    summary: 'Set a value that expires after ttlSeconds',
    params: z.object({
      cacheName: cacheNameParam,
      key: keyParam,
      ttlSeconds: z
        .string()
        .regex(/^\d{1,10}$/, 'must be a whole number >= 0')
        .meta({ description: 'whole seconds, 0: no expiry; at most 100 years', example: '30' })
        .transform(Number)
        .pipe(ttlSecondsField),
    }),
    body: rawBody,
    responses: { 201: empty('stored (durable)'), 400: refusedWrite, 409: cacheLimit, 413: valueTooLarge, 415: error('a JSON body (use POST /set)', 'UNSUPPORTED_MEDIA_TYPE') },
  },
  deleteKey: {
    family: 'native',
    summary: 'Delete a key',
    params: CacheKeyParams,
    responses: { 202: empty('deleted'), 400: error('the key does not exist (KEY_NOT_FOUND)', 'KEY_NOT_FOUND', 'CACHE_NOT_FOUND') },
  },
  batchSet: {
    family: 'native',
    summary: 'Set many values (validated whole first; per-element results in order)',
    body: {
      contentType: 'application/json',
      schema: (config: AppConfig) => named('BatchSetRequest', batchCacheRequestDto(config.edge.maxBatchElements)),
      elements: { field: 'cacheRequests', element: CacheRequestDto, limit: (config: AppConfig) => batchLimit(config.edge.maxBatchElements) },
      size: 'batch',
      example: { cacheRequests: [{ cacheName: 'cache1', key: 'key1', value: VALUE_ONE }, { cacheName: 'cache1', key: 'key2', value: VALUE_TWO }] },
    },
    responses: {
      200: json(named('BatchSetResponse', z.object({ complete: z.boolean(), results: z.array(ElementResult) })), 'one result per element', {
        complete: true,
        results: [{ cacheName: 'cache1', key: 'key1', success: true }, { cacheName: 'cache1', key: 'key2', success: true }],
      }),
    },
  },
  batchGet: {
    family: 'native',
    summary: 'Get many values',
    body: {
      contentType: 'application/json',
      schema: (config: AppConfig) => named('BatchKeysRequest', batchGetRequestDto(config.edge.maxBatchElements)),
      elements: { field: 'getCachedBatch', element: CacheKeyDto, limit: (config: AppConfig) => batchLimit(config.edge.maxBatchElements) },
      size: 'batch',
      example: { getCachedBatch: [{ cacheName: 'cache1', key: 'key2' }, { cacheName: 'cache1', key: 'key1' }] },
    },
    responses: {
      200: json(named('BatchGetResponse', z.object({ complete: z.boolean(), results: z.array(CachedValue) })), 'one value per element, in order', {
        complete: true,
        results: [{ cacheName: 'cache1', key: 'key2', success: true, value: VALUE_TWO }, { cacheName: 'cache1', key: 'key1', success: true, value: VALUE_ONE }],
      }),
    },
  },
  batchDelete: {
    family: 'native',
    summary: 'Delete many keys',
    body: {
      contentType: 'application/json',
      schema: (config: AppConfig) => named('BatchKeysRequest', batchGetRequestDto(config.edge.maxBatchElements)),
      elements: { field: 'getCachedBatch', element: CacheKeyDto, limit: (config: AppConfig) => batchLimit(config.edge.maxBatchElements) },
      size: 'batch',
      example: { getCachedBatch: [{ cacheName: 'cache1', key: 'key3' }, { cacheName: 'cache1', key: 'key2' }] },
    },
    responses: {
      200: json(named('BatchDeleteResponse', z.object({ success: z.boolean(), cacheDeleteResponses: z.array(ElementResult) })), 'one result per element', {
        success: true,
        cacheDeleteResponses: [{ cacheName: 'cache1', key: 'key3', success: true }, { cacheName: 'cache1', key: 'key2', success: true }],
      }),
    },
  },
} satisfies Record<string, RouteContract>;
