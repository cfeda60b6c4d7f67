import { Body, Controller, Delete, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheService, commandMeta } from '../cache.service';
import { parseInput } from '../validation';
import { asBuffer } from './binary';
import { BatchCacheRequestDto, BatchGetRequestDto } from './dto/native.dto';

/**
 * Batches: the whole body is validated first (one bad element: 400, nothing written), then
 * every element is sent to its cache; elements of different caches run side by side.
 */
@Controller('batch')
@UseGuards(BearerAuthGuard)
export class BatchController {
  constructor(private readonly caches: CacheService) {}

  @Post()
  @HttpCode(200)
  async set(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: FastifyRequest) {
    const { cacheRequests } = parseInput(BatchCacheRequestDto, body);
    const meta = commandMeta(principal, request);
    const values = cacheRequests.map(({ value }) => this.caches.decodeValue(value));
    const results = await Promise.all(
      cacheRequests.map(async ({ cacheName, key, ttlSeconds }, i) => {
        const reply = await this.caches.ask(principal, cacheName, {
          type: 'SetValue',
          key,
          value: values[i],
          ttlSeconds: ttlSeconds ?? 0,
          ...meta,
        });
        return { cacheName, key, success: reply.ok };
      }),
    );
    return { complete: results.every((r) => r.success), results };
  }

  @Post('get')
  @HttpCode(200)
  async get(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const { getCachedBatch } = parseInput(BatchGetRequestDto, body);
    // Ready caches answer synchronously: no promise per element.
    const results = [];
    for (const { cacheName, key } of getCachedBatch) {
      const found = this.caches.valueNow(principal, cacheName, key);
      const value = found instanceof Promise ? await found : found;
      results.push(
        value === undefined ? { cacheName, key, success: false, value: '' } : { cacheName, key, success: true, value: asBuffer(value).toString('base64') },
      );
    }
    return { complete: true, results };
  }

  @Delete()
  @HttpCode(200)
  async delete(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: FastifyRequest) {
    const { getCachedBatch } = parseInput(BatchGetRequestDto, body);
    const meta = commandMeta(principal, request);
    const cacheDeleteResponses = await Promise.all(
      getCachedBatch.map(async ({ cacheName, key }) => {
        const reply = await this.caches.ask(principal, cacheName, { type: 'DeleteKey', key, ...meta });
        return { cacheName, key, success: reply.ok };
      }),
    );
    return { success: cacheDeleteResponses.every((r) => r.success), cacheDeleteResponses };
  }
}
