import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { CacheCommand, DomainError } from '../../domain';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { parseBoundedJson } from '../edge/json-body';
import { asBuffer } from '../native/binary';
import { parseInput, pathParam } from '../validation';
import { IncrementDto, ListCachesQueryDto, PutItemDto } from './dto/ironcache.dto';
import { IronCacheAuthGuard } from './ironcache-auth.guard';
import { ironCacheJsonParser } from './ironcache-json';

/** Status and message of each domain rejection, in IronCache's terms. */
const IRON_ERRORS: Record<DomainError['code'], [number, string]> = {
  CACHE_NOT_FOUND: [404, 'Cache not found.'],
  KEY_NOT_FOUND: [404, 'Key not found.'],
  QUOTA_EXCEEDED: [403, 'Project over its storage quota.'],
  VALUE_TOO_LARGE: [400, 'Value too large for this cache.'],
  INVALID_ARGUMENT: [400, 'Invalid request.'],
  KEY_EXISTS: [409, 'Item already exists (add only stores new items); nothing stored.'],
  CAS_MISMATCH: [409, 'Item was changed since (cas does not match); nothing stored.'],
  NOT_A_NUMBER: [400, 'Value is not an integer; cannot increment.'],
  NUMBER_OUT_OF_RANGE: [400, 'Number out of the 64-bit signed integer range.'],
  EMPTY_VALUE_REJECTED: [400, 'This cache does not store empty values.'],
  CACHE_LIMIT_REACHED: [403, 'Project over its cache limit.'],
};

/**
 * The IronCache-compatible API (`/1/projects/{projectId}/caches/...`). It maps IronCache's
 * wire format to the core's commands and back; the project id is the token's org.
 */
@Controller('1/projects/:projectId/caches')
@UseGuards(IronCacheAuthGuard)
export class IronCacheController {
  constructor(
    private readonly caches: CacheService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const { page, per_page: perPage } = parseInput(ListCachesQueryDto, query);
    const names = (await this.caches.cacheNames(principal)).map((row) => row.cacheName).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return names.slice(page * perPage, (page + 1) * perPage).map((name) => ({ project_id: principal.org, name }));
  }

  @Get(':cacheName')
  async info(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string) {
    const cacheName = pathParam(rawName, 'cacheName');
    const state = await this.caches.state(principal, cacheName);
    if (state.status !== 'live') throw ironError('CACHE_NOT_FOUND');
    return { size: (await this.caches.liveKeys(principal, cacheName)).length };
  }

  @Delete(':cacheName')
  @HttpCode(200)
  async deleteCache(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Req() request: FastifyRequest) {
    await this.send(principal, pathParam(rawName, 'cacheName'), { type: 'DeleteCache', ...commandMeta(principal, request) });
    return { msg: 'Deleted.' };
  }

  @Post(':cacheName/clear')
  @HttpCode(200)
  async clear(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Req() request: FastifyRequest) {
    await this.send(principal, pathParam(rawName, 'cacheName'), { type: 'Flush', ...commandMeta(principal, request) });
    return { msg: 'Cleared.' };
  }

  @Put(':cacheName/items/:key')
  @HttpCode(200)
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') rawName: string,
    @Param('key') rawKey: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ) {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = pathParam(rawKey, 'key');
    const item = parseInput(PutItemDto, requireFields(jsonBody(body, this.config.edge.maxJsonDepth), ['value']));
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
  async increment(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') rawName: string,
    @Param('key') rawKey: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = pathParam(rawKey, 'key');
    const { amount } = parseInput(IncrementDto, requireFields(jsonBody(body, this.config.edge.maxJsonDepth), ['amount']));
    const envelopes = await this.send(principal, cacheName, { type: 'Increment', key, amount, ...commandMeta(principal, request) });
    const set = envelopes[envelopes.length - 1].event;
    const result = set.type === 'Set' ? asBuffer(set.value).toString('utf8') : amount.toString();
    // The value is a JSON number with every digit (JSON.stringify has no 64-bit integers): the
    // journaled result is decimal integer text, so it is written into the body as it is.
    void reply.header('content-type', 'application/json; charset=utf-8');
    return `{"msg":"Added","value":${result}}`;
  }

  @Get(':cacheName/items/:key')
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Param('key') rawKey: string) {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = pathParam(rawKey, 'key');
    const entry = await this.caches.entry(principal, cacheName, key);
    if (entry === undefined) throw ironError('KEY_NOT_FOUND');
    return { cache: cacheName, key, value: asBuffer(entry.value).toString('utf8'), cas: entry.version };
  }

  @Delete(':cacheName/items/:key')
  @HttpCode(200)
  async deleteItem(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') rawName: string,
    @Param('key') rawKey: string,
    @Req() request: FastifyRequest,
  ) {
    await this.send(principal, pathParam(rawName, 'cacheName'), { type: 'DeleteKey', key: pathParam(rawKey, 'key'), ...commandMeta(principal, request) });
    return { msg: 'Deleted.' };
  }

  private async send(principal: Principal, cacheName: string, command: CacheCommand) {
    return (await this.caches.execute(principal, cacheName, command, (error) => ironError(error.code, error.message))).envelopes;
  }
}

function ironError(code: DomainError['code'], detail?: string): ApiError {
  const [status, msg] = IRON_ERRORS[code];
  if (code === 'NUMBER_OUT_OF_RANGE' && detail) return new ApiError(status, code, `Number out of range: ${detail}.`);
  return new ApiError(status, code, code === 'INVALID_ARGUMENT' && detail ? `${msg} ${detail}` : msg);
}

/** IronCache clients send JSON; a body sent with another content type is read as JSON too. */
function jsonBody(body: unknown, maxDepth: number): unknown {
  return Buffer.isBuffer(body) ? parseBoundedJson(body.toString('utf8'), maxDepth, ironCacheJsonParser.parse) : body;
}

/** IronCache answers a missing required field with 406. */
function requireFields(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'INVALID_REQUEST', 'the request body must be a JSON object');
  for (const field of fields) {
    const value = (body as Record<string, unknown>)[field];
    if (value === undefined || value === null) throw new ApiError(406, 'NOT_ACCEPTABLE', `${field} is required`);
  }
  return body as Record<string, unknown>;
}
