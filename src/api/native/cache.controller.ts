import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { HistoryService } from '../history/history.service';
import { PointQuery, isPointInTime } from '../history/point-in-time';
import { parseInput, parseTtlPath, pathParam } from '../validation';
import { CacheRequestDto } from './dto/native.dto';
import { asBuffer, requireBinaryBody } from './binary';

/** Single cached objects, binary and JSON. */
@Controller()
@UseGuards(BearerAuthGuard)
export class CacheController {
  constructor(
    private readonly caches: CacheService,
    private readonly history: HistoryService,
  ) {}

  @Get('get/:cacheName/:key')
  async getJson(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Param('key') rawKey: string, @Query() query?: PointQuery) {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = pathParam(rawKey, 'key');
    if (isPointInTime(query)) return this.history.getJsonAt(principal, cacheName, key, query!);
    const value = await this.caches.value(principal, cacheName, key);
    return value === undefined
      ? { cacheName, key, success: false, value: '' } // `value` is required by the upstream schema, even on a miss
      : { cacheName, key, success: true, value: asBuffer(value).toString('base64') };
  }

  @Post('set')
  @HttpCode(201)
  async setJson(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    const { cacheName, key, value, ttlSeconds } = parseInput(CacheRequestDto, body);
    await this.caches.execute(principal, cacheName, {
      type: 'SetValue',
      key,
      value: this.caches.decodeValue(value),
      ttlSeconds: ttlSeconds ?? 0,
      ...commandMeta(principal, request),
    });
  }

  // GET and POST /:cacheName/:key (no TTL) are served by NativeFastRoutes, on Fastify directly.

  @Post(':cacheName/:key/:ttlSeconds')
  @HttpCode(201)
  async setBinaryWithTtl(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') rawName: string,
    @Param('key') rawKey: string,
    @Param('ttlSeconds') rawTtl: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.set(principal, rawName, rawKey, parseTtlPath(rawTtl), request);
  }

  private async set(principal: Principal, rawName: string, rawKey: string, ttlSeconds: number, request: FastifyRequest): Promise<void> {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = pathParam(rawKey, 'key');
    const value = requireBinaryBody(request.body);
    await this.caches.execute(principal, cacheName, { type: 'SetValue', key, value, ttlSeconds, ...commandMeta(principal, request) });
  }

  @Delete(':cacheName/:key')
  @HttpCode(202)
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') rawName: string,
    @Param('key') rawKey: string,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = pathParam(rawKey, 'key');
    await this.caches.execute(principal, cacheName, { type: 'DeleteKey', key, ...commandMeta(principal, request) });
  }
}
