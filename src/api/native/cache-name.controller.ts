import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { CacheService, commandMeta } from '../cache.service';
import { ResponseBudget, jsonStringBytes } from '../edge/response-budget';
import { ApiError } from '../errors/api-error';
import { HistoryService } from '../history/history.service';
import { PointQuery, isPointInTime } from '../history/point-in-time';
import { parseInput, pathParam } from '../validation';
import { CacheNameCreateDto } from './dto/native.dto';

/** Cache names (namespaces) of the caller's org. */
@Controller('cacheName')
@UseGuards(BearerAuthGuard)
export class CacheNameController {
  constructor(
    private readonly caches: CacheService,
    private readonly history: HistoryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    const { cacheName, description } = parseInput(CacheNameCreateDto, body);
    await this.caches.execute(principal, cacheName, { type: 'CreateCache', description: description ?? '', ...commandMeta(principal, request) });
  }

  @Put()
  @HttpCode(202)
  async update(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    const { cacheName, description } = parseInput(CacheNameCreateDto, body);
    await this.caches.execute(principal, cacheName, { type: 'ChangeDescription', description: description ?? '', ...commandMeta(principal, request) });
  }

  @Get('list')
  async list(@CurrentPrincipal() principal: Principal): Promise<Array<{ cacheName: string; description: string }>> {
    const rows = await this.caches.cacheNames(principal);
    const budget = new ResponseBudget(this.config.edge.maxResponseBytes, 'the cache list');
    for (const row of rows) budget.charge(32 + jsonStringBytes(row.cacheName) + jsonStringBytes(row.description));
    return rows.map(({ cacheName, description }) => ({ cacheName, description }));
  }

  @Get(':cacheName')
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string) {
    const cacheName = pathParam(rawName, 'cacheName');
    const state = await this.caches.state(principal, cacheName);
    if (state.status === 'absent') throw new ApiError(400, 'CACHE_NOT_FOUND', 'cache does not exist');
    return { cacheName, description: state.description, deleted: state.status === 'deleted' };
  }

  @Delete(':cacheName')
  @HttpCode(202)
  async delete(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Req() request: FastifyRequest): Promise<void> {
    const cacheName = pathParam(rawName, 'cacheName');
    await this.caches.execute(principal, cacheName, { type: 'DeleteCache', ...commandMeta(principal, request) });
  }

  @Put(':cacheName/flush')
  @HttpCode(202)
  async flush(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Req() request: FastifyRequest): Promise<void> {
    const cacheName = pathParam(rawName, 'cacheName');
    await this.caches.execute(principal, cacheName, { type: 'Flush', ...commandMeta(principal, request) });
  }

  @Get(':cacheName/keys')
  async keys(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Query() query?: PointQuery) {
    const cacheName = pathParam(rawName, 'cacheName');
    const listing = isPointInTime(query) ? await this.history.keysAt(principal, cacheName, query!) : { cacheName, keys: await this.caches.keys(principal, cacheName) };
    const budget = new ResponseBudget(this.config.edge.maxResponseBytes, 'the key list');
    for (const key of listing.keys) budget.charge(jsonStringBytes(key));
    return listing;
  }
}
