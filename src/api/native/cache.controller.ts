import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheService, commandMeta } from '../cache.service';
import { markNoRepresentation } from '../history/conditional-get.hook';
import { HistoryService } from '../history/history.service';
import { PointQuery, isPointInTime } from '../history/point-in-time';
import { Route } from '../contract/route-contract';
import { CacheRequest } from './dto/native.dto';
import { NativeContracts } from './native.contracts';
import { asBuffer, requireBinaryBody } from './binary';

/** Single cached objects, binary and JSON. */
@Controller()
export class CacheController {
  constructor(
    private readonly caches: CacheService,
    private readonly history: HistoryService,
  ) {}

  @Get('get/:cacheName/:key')
  @Route(NativeContracts.getJson)
  async getJson(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Param('key') key: string, @Req() request: FastifyRequest, @Query() query?: PointQuery) {
    const answer = isPointInTime(query) ? await this.history.getJsonAt(principal, cacheName, key, query!) : await this.currentJson(principal, cacheName, key);
    // A miss is a 200 here, but no representation of the key: If-None-Match: * does not match it.
    if (!answer.success) markNoRepresentation(request);
    return answer;
  }

  private async currentJson(principal: Principal, cacheName: string, key: string) {
    const entry = await this.caches.entry(principal, cacheName, key);
    return entry === undefined
      ? { cacheName, key, success: false, value: '', expiresAt: null } // `value` is required by the upstream schema, even on a miss
      : { cacheName, key, success: true, value: asBuffer(entry.value).toString('base64'), expiresAt: entry.expiresAt === 0 ? null : new Date(entry.expiresAt).toISOString() };
  }

  @Post('set')
  @HttpCode(201)
  @Route(NativeContracts.setJson)
  async setJson(@CurrentPrincipal() principal: Principal, @Body() { cacheName, key, value, ttlSeconds }: CacheRequest, @Req() request: FastifyRequest): Promise<void> {
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
  @Route(NativeContracts.setBinaryWithTtl)
  async setBinaryWithTtl(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Param('key') key: string,
    @Param('ttlSeconds') ttlSeconds: number,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    const value = requireBinaryBody(request.body);
    await this.caches.execute(principal, cacheName, { type: 'SetValue', key, value, ttlSeconds, ...commandMeta(principal, request) });
  }

  @Delete(':cacheName/:key')
  @HttpCode(202)
  @Route(NativeContracts.deleteKey)
  async delete(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Param('key') key: string, @Req() request: FastifyRequest): Promise<void> {
    await this.caches.execute(principal, cacheName, { type: 'DeleteKey', key, ...commandMeta(principal, request) });
  }
}
