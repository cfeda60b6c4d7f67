import { Body, Controller, Get, Inject, Param, Put, Req, UseGuards } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { CacheSettings } from '../../domain';
import { CacheService, commandMeta, nativeRejection, rejectionError } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { parseInput, pathParam } from '../validation';
import { CacheSettingsDto } from './dto/settings.dto';

const notFound = (cacheName: string) => new ApiError(404, 'CACHE_NOT_FOUND', `cache (name: ${cacheName}) was not found`);

/** Per-cache settings (capacity with LRU eviction, default ttl, maxValueBytes, cacheNullValue). */
@Controller('cacheName')
@UseGuards(BearerAuthGuard)
export class CacheSettingsController {
  constructor(
    private readonly caches: CacheService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':cacheName/settings')
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string) {
    const cacheName = pathParam(rawName, 'cacheName');
    const state = await this.caches.state(principal, cacheName);
    if (state.status !== 'live') throw notFound(cacheName);
    return toWire(cacheName, state.settings);
  }

  @Put(':cacheName/settings')
  async put(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Body() body: unknown, @Req() request: FastifyRequest) {
    const cacheName = pathParam(rawName, 'cacheName');
    if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
      throw new ApiError(400, 'INVALID_REQUEST', 'the body must be a JSON object with capacity, ttl, maxValueBytes and/or cacheNullValue');
    }
    const { capacity, ttl, maxValueBytes, cacheNullValue } = parseInput(CacheSettingsDto, body);
    if (maxValueBytes !== undefined && maxValueBytes > this.config.maxValueBytes) {
      throw new ApiError(400, 'INVALID_REQUEST', `maxValueBytes: must be at most ${this.config.maxValueBytes} (the service's MAX_VALUE_BYTES)`);
    }
    const reply = await this.caches.ask(principal, cacheName, {
      type: 'ChangeSettings',
      settings: { capacity, ttlSeconds: ttl, maxValueBytes, cacheNullValue },
      ...commandMeta(principal, request),
    });
    if (!reply.ok) {
      if ('code' in reply.error && reply.error.code === 'CACHE_NOT_FOUND') throw notFound(cacheName);
      if ('code' in reply.error && reply.error.code === 'INVALID_ARGUMENT') throw new ApiError(400, 'INVALID_REQUEST', reply.error.message);
      // Any other rejection (TOO_MANY_EVENTS: a capacity cut that evicts too many keys) in the native wording.
      throw rejectionError(reply.error, nativeRejection);
    }
    return toWire(cacheName, (await this.caches.state(principal, cacheName)).settings);
  }
}

function toWire(cacheName: string, settings: CacheSettings) {
  return { cacheName, capacity: settings.capacity, ttl: settings.ttlSeconds, maxValueBytes: settings.maxValueBytes, cacheNullValue: settings.cacheNullValue };
}
