import { Body, Controller, Get, Inject, Param, Put, Req } from '@nestjs/common';
import { z } from 'zod';
import { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG } from '../../config/settings';
import type { LimitsConfig } from '../../config/limits';
import { CacheSettings } from '../../domain';
import { FAMILIES } from '../../families';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError, refusedBy } from '../errors/api-error';
import { CacheNameParams } from '../contract/params';
import { Route, RouteContract, error, json, named } from '../contract/route-contract';
import { CacheSettingsDto } from './dto/settings.dto';

const SettingsWire = named('CacheSettings', z.object({ cacheName: z.string(), capacity: z.number().int(), ttl: z.number().int(), maxValueBytes: z.number().int(), cacheNullValue: z.boolean() }));
const settingsExample = { cacheName: 'cache1', capacity: 1000, ttl: 3600, maxValueBytes: 0, cacheNullValue: false };

export const SettingsContracts = {
  get: {
    family: 'settings',
    summary: "A cache's settings",
    params: CacheNameParams,
    responses: { 200: json(SettingsWire, 'the settings', settingsExample), 404: error('no such live cache', 'CACHE_NOT_FOUND') },
  },
  put: {
    family: 'settings',
    summary: 'Change some settings (the fields sent; the others keep their values)',
    params: CacheNameParams,
    body: {
      contentType: 'application/json',
      schema: named('CacheSettingsChange', CacheSettingsDto),
      example: { capacity: 1000, ttl: 3600 },
      prepare: (body) => {
        if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
          throw ApiError.of('INVALID_REQUEST', 'the body must be a JSON object with capacity, ttl, maxValueBytes and/or cacheNullValue');
        }
        return body;
      },
    },
    responses: {
      200: json(SettingsWire, 'the settings now', settingsExample),
      404: error('no such live cache', 'CACHE_NOT_FOUND'),
      409: error('a capacity cut would evict more keys at once than MAX_EVENTS_PER_COMMAND allows (TOO_MANY_EVENTS)', 'TOO_MANY_EVENTS'),
    },
  },
} satisfies Record<string, RouteContract>;

/** Per-cache settings (capacity with LRU eviction, default ttl, maxValueBytes, cacheNullValue). */
@Controller('cacheName')
export class CacheSettingsController {
  constructor(
    private readonly caches: CacheService,
    @Inject(APP_CONFIG) private readonly config: LimitsConfig,
  ) {}

  @Get(':cacheName/settings')
  @Route(SettingsContracts.get)
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string) {
    const state = await this.caches.state(principal, cacheName);
    if (state.status !== 'live') throw refusedBy(FAMILIES.settings, { code: 'CACHE_NOT_FOUND', cacheName });
    return toWire(cacheName, state.settings);
  }

  @Put(':cacheName/settings')
  @Route(SettingsContracts.put)
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Body() { capacity, ttl, maxValueBytes, cacheNullValue }: z.infer<typeof CacheSettingsDto>,
    @Req() request: FastifyRequest,
  ) {
    const tooLarge = maxValueBytesBeyondService(maxValueBytes, this.config.maxValueBytes);
    if (tooLarge !== undefined) throw ApiError.of('INVALID_REQUEST', tooLarge);
    // Refusals in the settings family's words (a missing cache is a 404 naming it, a bad setting INVALID_REQUEST).
    await this.caches.execute(
      principal,
      cacheName,
      // maxEvents: a capacity cut beyond MAX_EVENTS_PER_COMMAND is refused before its evictions are chosen.
      { type: 'ChangeSettings', settings: { capacity, ttlSeconds: ttl, maxValueBytes, cacheNullValue }, maxEvents: this.config.edge.maxEventsPerCommand, ...commandMeta(principal, request) },
      FAMILIES.settings,
    );
    return toWire(cacheName, (await this.caches.state(principal, cacheName)).settings);
  }
}

/** A cache's maxValueBytes may not exceed the service's (import holds SettingsChanged events to this too). */
export function maxValueBytesBeyondService(maxValueBytes: number | undefined, serviceMax: number): string | undefined {
  return maxValueBytes !== undefined && maxValueBytes > serviceMax ? `maxValueBytes: must be at most ${serviceMax} (the service's MAX_VALUE_BYTES)` : undefined;
}

function toWire(cacheName: string, settings: CacheSettings) {
  return { cacheName, capacity: settings.capacity, ttl: settings.ttlSeconds, maxValueBytes: settings.maxValueBytes, cacheNullValue: settings.cacheNullValue };
}
