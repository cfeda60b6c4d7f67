import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG } from '../../config/settings';
import type { EdgeConfig } from '../../config/edge';
import { CacheService, commandMeta } from '../cache.service';
import { ResponseBudget, jsonStringBytes } from '../edge/response-budget';
import { ApiError } from '../errors/api-error';
import { HistoryService } from '../history/history.service';
import { PointQuery, isPointInTime } from '../history/point-in-time';
import { Route } from '../contract/route-contract';
import { CacheNameCreate } from './dto/native.dto';
import { KeysQuery, NativeContracts } from './native.contracts';
import { encodeCursor, keyPageRequest } from './key-scan';

/** Cache names (namespaces) of the caller's org. */
@Controller('cacheName')
export class CacheNameController {
  constructor(
    private readonly caches: CacheService,
    private readonly history: HistoryService,
    @Inject(APP_CONFIG) private readonly config: EdgeConfig,
  ) {}

  @Post()
  @HttpCode(201)
  @Route(NativeContracts.createName)
  async create(@CurrentPrincipal() principal: Principal, @Body() { cacheName, description }: CacheNameCreate, @Req() request: FastifyRequest): Promise<void> {
    await this.caches.execute(principal, cacheName, { type: 'CreateCache', description: description ?? '', ...commandMeta(principal, request) });
  }

  @Put()
  @HttpCode(202)
  @Route(NativeContracts.updateName)
  async update(@CurrentPrincipal() principal: Principal, @Body() { cacheName, description }: CacheNameCreate, @Req() request: FastifyRequest): Promise<void> {
    await this.caches.execute(principal, cacheName, { type: 'ChangeDescription', description: description ?? '', ...commandMeta(principal, request) });
  }

  @Get('list')
  @Route(NativeContracts.listNames)
  async list(@CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest): Promise<Array<{ cacheName: string; description: string }>> {
    const rows = await this.caches.cacheNames(principal);
    const budget = new ResponseBudget(this.config.edge.maxResponseBytes, 'the cache list', request);
    for (const row of rows) budget.charge(32 + jsonStringBytes(row.cacheName) + jsonStringBytes(row.description));
    return rows.map(({ cacheName, description }) => ({ cacheName, description }));
  }

  @Get(':cacheName')
  @Route(NativeContracts.getName)
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string) {
    const state = await this.caches.state(principal, cacheName);
    if (state.status === 'absent') throw ApiError.of('CACHE_NOT_FOUND', 'cache does not exist');
    // Counters of the state (its entry map's size, its byte sum): the same cost for any cache size.
    const live = state.status === 'live';
    return { cacheName, description: state.description, deleted: state.status === 'deleted', keyCount: live ? state.entries.size : 0, valueBytes: live ? state.bytes : 0 };
  }

  @Delete(':cacheName')
  @HttpCode(202)
  @Route(NativeContracts.deleteName)
  async delete(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Req() request: FastifyRequest): Promise<void> {
    await this.caches.execute(principal, cacheName, { type: 'DeleteCache', ...commandMeta(principal, request) });
  }

  @Put(':cacheName/flush')
  @HttpCode(202)
  @Route(NativeContracts.flush)
  async flush(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Req() request: FastifyRequest): Promise<void> {
    await this.caches.execute(principal, cacheName, { type: 'Flush', ...commandMeta(principal, request) });
  }

  @Get(':cacheName/keys')
  @Route(NativeContracts.keys)
  async keys(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Req() request: FastifyRequest, @Query() query?: KeysQuery) {
    if (query?.cursor !== undefined) return this.keyPage(principal, cacheName, query, request);
    const listing = isPointInTime(query) ? await this.history.keysAt(principal, cacheName, query!) : { cacheName, keys: await this.caches.keys(principal, cacheName) };
    const budget = new ResponseBudget(this.config.edge.maxResponseBytes, 'the key list', request);
    for (const key of listing.keys) budget.charge(jsonStringBytes(key));
    return listing;
  }

  /** `?cursor=`: one page of a SCAN-like walk (see key-scan.ts), of the keys now or at a point. */
  private async keyPage(principal: Principal, cacheName: string, query: KeysQuery, request: FastifyRequest) {
    const pageRequest = keyPageRequest(query);
    const page = isPointInTime(query) ? await this.history.keyPageAt(principal, cacheName, query, pageRequest) : await this.caches.keyPage(principal, cacheName, pageRequest);
    const budget = new ResponseBudget(this.config.edge.maxResponseBytes, 'the key page', request);
    const keys = page.rows.map((row) => row.key);
    for (const key of keys) budget.charge(jsonStringBytes(key));
    const answer: { cacheName: string; keys: string[]; cursor: string; expiresAt?: Array<string | null>; valueBytes?: number[] } = { cacheName, keys, cursor: encodeCursor(page.last) };
    if (query.withExpiry === 'true') answer.expiresAt = page.rows.map((row) => (row.expiresAt === 0 ? null : new Date(row.expiresAt).toISOString()));
    if (query.withSize === 'true') answer.valueBytes = page.rows.map((row) => row.bytes);
    return answer;
  }
}
