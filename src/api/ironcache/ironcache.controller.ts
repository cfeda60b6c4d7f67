import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { z } from 'zod';
import { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG } from '../../config/settings';
import type { EdgeConfig } from '../../config/edge';
import type { LimitsConfig } from '../../config/limits';
import { CacheCommand } from '../../domain';
import { FAMILIES } from '../../families';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError, refusedBy } from '../errors/api-error';
import { parseBoundedJson } from '../edge/json-body';
import { jsonStringBytes } from '../edge/response-budget';
import { reserveAnswer } from '../edge/unread-answers';
import { asBuffer } from '../native/binary';
import { cacheNameParam, keyParam } from '../contract/params';
import { Route, RouteContract, error, json, named } from '../contract/route-contract';
import { IncrementDto, ListCachesQueryDto, PutItemDto } from './dto/ironcache.dto';

// Examples are those of the IronCache REST API reference.
const projectId = z.string().meta({ description: "the project id: your token's org", example: 'dev' });
const CacheParams = z.object({ projectId, cacheName: cacheNameParam });
const ItemParams = z.object({ projectId, cacheName: cacheNameParam, key: keyParam });
const IronMessage = named('IronCacheMessage', z.object({ msg: z.string() }));
const Msg = (example: string) => json(IronMessage, example, { msg: example });
const conflict = error('add on an existing item, or a cas that no longer matches: nothing stored', 'KEY_EXISTS', 'CAS_MISMATCH');
const noCache = error('Cache not found.', 'CACHE_NOT_FOUND');
// A write can also find the project over its quota or cache limit (403 in IronCache's words).
const overLimits = error("over the project's byte quota or cache limit", 'QUOTA_EXCEEDED', 'CACHE_LIMIT_REACHED');
named('IronCachePutItem', PutItemDto);
named('IronCacheIncrement', IncrementDto);

export const IronCacheContracts = {
  list: {
    family: 'ironcache',
    summary: "The project's caches, paged",
    params: z.object({ projectId }),
    query: ListCachesQueryDto,
    responses: { 200: json(named('IronCacheList', z.array(named('IronCacheRow', z.object({ project_id: z.string(), name: z.string() })))), 'caches', [{ project_id: 'dev', name: 'cache1' }]) },
  },
  info: {
    family: 'ironcache',
    summary: 'A cache and its size',
    params: CacheParams,
    responses: { 200: json(named('IronCacheInfo', z.object({ size: z.number().int() })), 'the cache', { size: 3 }), 404: noCache },
  },
  deleteCache: {
    family: 'ironcache',
    summary: 'Delete a cache',
    params: CacheParams,
    responses: { 200: Msg('Deleted.'), 404: noCache },
  },
  clear: {
    family: 'ironcache',
    summary: 'Remove every item of a cache',
    params: CacheParams,
    responses: { 200: Msg('Cleared.'), 404: noCache },
  },
  put: {
    family: 'ironcache',
    summary: 'Put an item (add, replace, cas, expires_in)',
    params: ItemParams,
    body: {
      contentType: 'application/json',
      schema: PutItemDto,
      example: { value: 'This is my cache item.', expires_in: 86400, replace: true },
      size: 'value-any',
      prepare: (body, config) => requireFields(jsonBody(body, config.edge.maxJsonDepth), ['value']),
    },
    responses: {
      200: Msg('Stored.'),
      400: error('the value is larger than MAX_VALUE_BYTES, or the cache does not store empty values', 'VALUE_TOO_LARGE', 'EMPTY_VALUE_REJECTED'),
      403: overLimits,
      404: error('Key not found. (replace or cas on a missing item)', 'KEY_NOT_FOUND'),
      406: error('value is required', 'NOT_ACCEPTABLE'),
      409: conflict,
    },
  },
  increment: {
    family: 'ironcache',
    summary: 'Add to an integer item atomically (64-bit, exact)',
    params: ItemParams,
    body: {
      contentType: 'application/json',
      schema: IncrementDto,
      example: { amount: 10 },
      prepare: (body, config) => requireFields(jsonBody(body, config.edge.maxJsonDepth), ['amount']),
    },
    responses: {
      200: json(named('IronCacheIncremented', z.object({ msg: z.string(), value: z.number().int() })), 'the new value', { msg: 'Added', value: 132 }),
      400: error('the item is not an integer, or the sum leaves the 64-bit range', 'NOT_A_NUMBER', 'NUMBER_OUT_OF_RANGE'),
      403: overLimits,
      406: error('amount is required', 'NOT_ACCEPTABLE'),
    },
  },
  get: {
    family: 'ironcache',
    summary: 'Get an item',
    params: ItemParams,
    responses: {
      200: json(named('IronCacheItem', z.object({ cache: z.string(), key: z.string(), value: z.string(), cas: z.number().int() })), 'the item', { cache: 'cache1', key: 'key1', value: 'This is my cache item.', cas: 12345 }),
      404: error('Key not found.', 'KEY_NOT_FOUND'),
    },
  },
  deleteItem: {
    family: 'ironcache',
    summary: 'Delete an item',
    params: ItemParams,
    responses: { 200: Msg('Deleted.'), 404: error('Key not found.', 'KEY_NOT_FOUND') },
  },
} satisfies Record<string, RouteContract>;

/**
 * The IronCache-compatible API (`/1/projects/{projectId}/caches/...`). It maps IronCache's
 * wire format to the core's commands and back; the project id is the token's org.
 */
@Controller('1/projects/:projectId/caches')
export class IronCacheController {
  constructor(
    private readonly caches: CacheService,
    @Inject(APP_CONFIG) private readonly config: EdgeConfig & LimitsConfig,
  ) {}

  @Get()
  @Route(IronCacheContracts.list)
  async list(@CurrentPrincipal() principal: Principal, @Query() { page, per_page: perPage }: z.infer<typeof ListCachesQueryDto>) {
    const names = (await this.caches.cacheNames(principal)).map((row) => row.cacheName).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return names.slice(page * perPage, (page + 1) * perPage).map((name) => ({ project_id: principal.org, name }));
  }

  @Get(':cacheName')
  @Route(IronCacheContracts.info)
  async info(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string) {
    const state = await this.caches.state(principal, cacheName);
    if (state.status !== 'live') throw refusedBy(FAMILIES.ironcache, { code: 'CACHE_NOT_FOUND', cacheName });
    return { size: (await this.caches.liveKeys(principal, cacheName)).length };
  }

  @Delete(':cacheName')
  @HttpCode(200)
  @Route(IronCacheContracts.deleteCache)
  async deleteCache(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Req() request: FastifyRequest) {
    await this.send(principal, cacheName, { type: 'DeleteCache', ...commandMeta(principal, request) });
    return { msg: 'Deleted.' };
  }

  @Post(':cacheName/clear')
  @HttpCode(200)
  @Route(IronCacheContracts.clear)
  async clear(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Req() request: FastifyRequest) {
    await this.send(principal, cacheName, { type: 'Flush', ...commandMeta(principal, request) });
    return { msg: 'Cleared.' };
  }

  @Put(':cacheName/items/:key')
  @HttpCode(200)
  @Route(IronCacheContracts.put)
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Param('key') key: string,
    @Body() item: z.infer<typeof PutItemDto>,
    @Req() request: FastifyRequest,
  ) {
    const value = Buffer.from(item.value, 'utf8');
    if (value.byteLength > this.config.maxValueBytes) throw new ApiError(400, 'VALUE_TOO_LARGE', `value is larger than ${this.config.maxValueBytes} bytes`);
    await this.send(principal, cacheName, {
      type: 'SetValue',
      key,
      value,
      ttlSeconds: item.expires_in ?? 0,
      mode: item.add ? 'add' : item.replace ? 'replace' : 'upsert',
      ifVersion: item.cas === undefined ? undefined : Number(item.cas),
      ...commandMeta(principal, request),
    });
    return { msg: 'Stored.' };
  }

  @Post(':cacheName/items/:key/increment')
  @HttpCode(200)
  @Route(IronCacheContracts.increment)
  async increment(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Param('key') key: string,
    @Body() { amount }: z.infer<typeof IncrementDto>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const envelopes = await this.send(principal, cacheName, { type: 'Increment', key, amount, ...commandMeta(principal, request) });
    const set = envelopes[envelopes.length - 1].event;
    const result = set.type === 'Set' ? asBuffer(set.value).toString('utf8') : amount.toString();
    // The value is a JSON number with every digit (JSON.stringify has no 64-bit integers): the
    // journaled result is decimal integer text, so it is written into the body as it is.
    void reply.header('content-type', 'application/json; charset=utf-8');
    return `{"msg":"Added","value":${result}}`;
  }

  @Get(':cacheName/items/:key')
  @Route(IronCacheContracts.get)
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Param('key') key: string, @Req() request: FastifyRequest) {
    const entry = await this.caches.entry(principal, cacheName, key);
    if (entry === undefined) throw refusedBy(FAMILIES.ironcache, { code: 'KEY_NOT_FOUND', cacheName });
    // The value becomes text in JSON (a copy): its bytes are reserved against the org's share of unread answers first.
    reserveAnswer(request, entry.value.byteLength + jsonStringBytes(cacheName) + jsonStringBytes(key) + 48);
    return { cache: cacheName, key, value: asBuffer(entry.value).toString('utf8'), cas: entry.version };
  }

  @Delete(':cacheName/items/:key')
  @HttpCode(200)
  @Route(IronCacheContracts.deleteItem)
  async deleteItem(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Param('key') key: string, @Req() request: FastifyRequest) {
    await this.send(principal, cacheName, { type: 'DeleteKey', key, ...commandMeta(principal, request) });
    return { msg: 'Deleted.' };
  }

  private async send(principal: Principal, cacheName: string, command: CacheCommand) {
    return (await this.caches.execute(principal, cacheName, command, FAMILIES.ironcache)).envelopes;
  }
}

/** IronCache clients send JSON; a body sent with another content type is read as JSON too. */
function jsonBody(body: unknown, maxDepth: number): unknown {
  return Buffer.isBuffer(body) ? parseBoundedJson(body.toString('utf8'), maxDepth, FAMILIES.ironcache.parseJson) : body;
}

/** IronCache answers a missing required field with 406. */
function requireFields(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.of('INVALID_REQUEST', 'the request body must be a JSON object');
  for (const field of fields) {
    const value = (body as Record<string, unknown>)[field];
    if (value === undefined || value === null) throw ApiError.of('NOT_ACCEPTABLE', `${field} is required`);
  }
  return body as Record<string, unknown>;
}
