import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Principal } from '../auth/principal';
import { CacheGateway } from '../core/cache-gateway';
import { ApiFamily, RequestContext, requestContext } from '../core/request-context';
import { CacheCommand, CacheState, DomainError, Entry, liveKeys } from '../domain';
import { Reply } from '../entities/cache-entity';
import { FAMILIES, FamilyProfile } from '../families';
import { CacheNameRow, KeyPage, KeyPageRequest } from '../journal/inline-read-models';
import { ApiError, refusedBy } from './errors/api-error';

/**
 * The HTTP families' side of the core's gateway: principals from the edge become request
 * contexts, refusals become errors worded by the caller's family (its profile, native by default).
 */
@Injectable()
export class CacheService {
  constructor(private readonly gateway: CacheGateway) {}

  /** Decodes a base64 value from a JSON body, refusing one over MAX_VALUE_BYTES before allocating it. */
  decodeValue(base64: string): Buffer {
    const limit = this.gateway.admission.maxValueBytes;
    // 3 bytes per 4 characters: refuse before allocating anything oversized.
    if (Math.floor((base64.length * 3) / 4) - 2 > limit) throw this.tooLarge();
    const value = Buffer.from(base64, 'base64');
    if (value.byteLength > limit) throw this.tooLarge();
    return value;
  }

  private tooLarge(): ApiError {
    return refusedBy(FAMILIES.native, { code: 'VALUE_TOO_LARGE', message: `the value is larger than MAX_VALUE_BYTES (${this.gateway.admission.maxValueBytes})` });
  }

  /** Sends a command; resolves with the reply, whether accepted or rejected. */
  ask(principal: Principal, cacheName: string, command: CacheCommand, family: ApiFamily = 'native'): Promise<Reply> {
    return this.gateway.ask(contextOf(principal, family, command), cacheName, command);
  }

  /**
   * Sends a command and throws if it is rejected: a domain rejection worded by the caller's
   * API family (the native family by default), a storage failure as it is (503).
   */
  async execute(principal: Principal, cacheName: string, command: CacheCommand, family: FamilyProfile = FAMILIES.native): Promise<Reply & { ok: true }> {
    const reply = await this.ask(principal, cacheName, command, family.id);
    if (reply.ok) return reply;
    throw rejectionError(reply.error, family, cacheName);
  }

  state(principal: Principal, cacheName: string): Promise<CacheState> {
    return this.gateway.state(contextOf(principal), cacheName);
  }

  /** The live value of a key; a hit counts as use for the cache's LRU eviction. */
  async value(principal: Principal, cacheName: string, key: string): Promise<Uint8Array | undefined> {
    return this.gateway.useValueNow(contextOf(principal), cacheName, key);
  }

  /** `value`, synchronously when the cache's entity is ready (the GET hot path). */
  valueNow(principal: Principal, cacheName: string, key: string): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    return this.gateway.useValueNow(contextOf(principal), cacheName, key);
  }

  /** The live entry of a key, with its version (IronCache's `cas`); a hit counts as use. */
  async entry(principal: Principal, cacheName: string, key: string): Promise<Entry | undefined> {
    return this.gateway.useEntryNow(contextOf(principal), cacheName, key);
  }

  /** `entry`, synchronously when the cache's entity is ready (the binary GET, which answers the expiry too). */
  entryNow(principal: Principal, cacheName: string, key: string): Entry | undefined | Promise<Entry | undefined> {
    return this.gateway.useEntryNow(contextOf(principal), cacheName, key);
  }

  /** Live keys from the journal's key listing (exact once a write is acknowledged). */
  async keys(principal: Principal, cacheName: string): Promise<string[]> {
    const keys = await this.gateway.keys(contextOf(principal), cacheName);
    if (keys === undefined) throw refusedBy(FAMILIES.native, { code: 'CACHE_NOT_FOUND' });
    return keys;
  }

  /** One page of the live keys (the key listing's order, bounded work); CACHE_NOT_FOUND when the cache is not live. */
  async keyPage(principal: Principal, cacheName: string, request: KeyPageRequest): Promise<KeyPage> {
    const page = await this.gateway.keyPage(contextOf(principal), cacheName, request);
    if (page === undefined) throw refusedBy(FAMILIES.native, { code: 'CACHE_NOT_FOUND' });
    return page;
  }

  /** Live keys straight from the entity's state (no projection). */
  async liveKeys(principal: Principal, cacheName: string): Promise<string[]> {
    return [...liveKeys(await this.state(principal, cacheName), this.gateway.now())];
  }

  /** Value bytes of all the caller's org's caches. */
  orgValueBytes(principal: Principal): Promise<number> {
    return this.gateway.orgValueBytes(contextOf(principal));
  }

  async cacheNames(principal: Principal): Promise<CacheNameRow[]> {
    return this.gateway.cacheNames(contextOf(principal));
  }

  now(): number {
    return this.gateway.now();
  }
}

/** The context of an HTTP request: its device id travels in the command's audit fields already. */
function contextOf(principal: Principal, family: ApiFamily = 'native', command?: CacheCommand): RequestContext {
  return requestContext(principal, family, command?.device);
}

/** A domain rejection (plain data) as the family words it; anything thrown (a storage failure) stays as it is. */
export function rejectionError(error: DomainError | Error, family: FamilyProfile, cacheName?: string): Error {
  return error instanceof Error ? error : refusedBy(family, { code: error.code, message: error.message, cacheName });
}

/** The longest device id kept from `X-Device-Id` (an import holds events to it too). */
export const MAX_DEVICE_ID = 256;

/** Who and from where, for the event's audit fields. */
export function commandMeta(principal: Principal, request: FastifyRequest): { by: string; device: string | null } {
  const device = request.headers['x-device-id'];
  return { by: principal.name, device: typeof device === 'string' && device.length > 0 ? device.slice(0, MAX_DEVICE_ID) : null };
}
