import { Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Principal } from '../auth/principal';
import { limitForLevel } from '../auth/service-level';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Clock } from '../config/clock';
import { CacheCommand, CacheState, DomainError, Entry, domainError, liveKeys } from '../domain';
import { Reply } from '../entities/cache-entity';
import { EntityRegistry } from '../entities/entity-registry';
import { OrgCaches } from '../entities/org-caches';
import { CacheNameRow, InlineReadModels } from '../journal/inline-read-models';
import { ApiError } from './errors/api-error';

const DOMAIN_STATUS: Record<DomainError['code'], number> = {
  CACHE_NOT_FOUND: 400,
  KEY_NOT_FOUND: 400,
  QUOTA_EXCEEDED: 400,
  INVALID_ARGUMENT: 400,
  VALUE_TOO_LARGE: 413,
  KEY_EXISTS: 409,
  CAS_MISMATCH: 409,
  NOT_A_NUMBER: 400,
  NUMBER_OUT_OF_RANGE: 400,
  EMPTY_VALUE_REJECTED: 400,
  CACHE_LIMIT_REACHED: 409,
};

/**
 * The bridge every API family uses: wire-level requests become commands for the entity
 * registry, and reads are answered from committed state or from projections.
 */
@Injectable()
export class CacheService {
  constructor(
    private readonly registry: EntityRegistry,
    private readonly clock: Clock,
    private readonly readModels: InlineReadModels,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly orgCaches: OrgCaches,
  ) {}

  /** Decodes a base64 value from a JSON body, refusing one over MAX_VALUE_BYTES with 413. */
  decodeValue(base64: string): Buffer {
    // 3 bytes per 4 characters: refuse before allocating anything oversized.
    if (Math.floor((base64.length * 3) / 4) - 2 > this.config.maxValueBytes) throw this.tooLarge();
    const value = Buffer.from(base64, 'base64');
    if (value.byteLength > this.config.maxValueBytes) throw this.tooLarge();
    return value;
  }

  private tooLarge(): ApiError {
    return new ApiError(413, 'VALUE_TOO_LARGE', `the value is larger than MAX_VALUE_BYTES (${this.config.maxValueBytes})`);
  }

  /** Sends a command; resolves with the reply, whether accepted or rejected. */
  ask(principal: Principal, cacheName: string, command: CacheCommand): Promise<Reply> {
    const quotaLimit = this.config.orgQuotaEnabled ? limitForLevel(this.config.serviceLevelMaxBytes, principal.serviceLevel) : undefined;
    const ref = { org: principal.org, name: cacheName };
    if (mayCreateCache(command) && !this.registry.isLiveNow(ref)) {
      if (!this.orgCaches.enter(ref.org, ref.name)) return this.askAtLimit(ref, command, quotaLimit);
      return this.registry.ask(ref, command, { quotaLimit }).finally(() => this.orgCaches.leave(ref.org, ref.name));
    }
    return this.registry.ask(ref, command, { quotaLimit });
  }

  /**
   * An org at MAX_CACHES_PER_ORG (counting names on their way): a command for a cache that
   * does not exist is refused here, without recovering an entity for it (a batch over
   * thousands of new names stays cheap). The entity checks again when the command is decided.
   */
  private async askAtLimit(ref: { org: string; name: string }, command: CacheCommand, quotaLimit: number | undefined): Promise<Reply> {
    if (!(await this.readModels.isLive(ref))) {
      return { ok: false, error: domainError('CACHE_LIMIT_REACHED', `the organisation has ${this.orgCaches.limit} caches (MAX_CACHES_PER_ORG); delete one first`) };
    }
    return this.registry.ask(ref, command, { quotaLimit });
  }

  /** Sends a command and throws the native API error if it is rejected. */
  /**
   * Sends a command and throws if it is rejected: a domain rejection as the error the
   * caller's API family answers with (`toError`, the native format by default), a storage
   * failure as it is (503).
   */
  async execute(
    principal: Principal,
    cacheName: string,
    command: CacheCommand,
    toError: RejectionMapper = nativeRejection,
  ): Promise<Reply & { ok: true }> {
    const reply = await this.ask(principal, cacheName, command);
    if (reply.ok) return reply;
    throw rejectionError(reply.error, toError);
  }

  state(principal: Principal, cacheName: string): Promise<CacheState> {
    return this.registry.state({ org: principal.org, name: cacheName });
  }

  /** The live value of a key; a hit counts as use for the cache's LRU eviction. */
  async value(principal: Principal, cacheName: string, key: string): Promise<Uint8Array | undefined> {
    return this.valueNow(principal, cacheName, key);
  }

  /** `value`, synchronously when the cache's entity is ready (the GET hot path). */
  valueNow(principal: Principal, cacheName: string, key: string): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    const entity = this.registry.entityNow({ org: principal.org, name: cacheName });
    if (entity instanceof Promise) return entity.then((e) => e.useValue(key, this.clock.now()));
    return entity.useValue(key, this.clock.now());
  }

  /** The live entry of a key, with its version (IronCache's `cas`); a hit counts as use. */
  async entry(principal: Principal, cacheName: string, key: string): Promise<Entry | undefined> {
    const entity = await this.registry.entityNow({ org: principal.org, name: cacheName });
    return entity.useEntry(key, this.clock.now());
  }

  /** Live keys from the journal's key listing (exact once a write is acknowledged). */
  async keys(principal: Principal, cacheName: string): Promise<string[]> {
    const ref = { org: principal.org, name: cacheName };
    const state = await this.registry.state(ref);
    if (state.status !== 'live') throw new ApiError(400, 'CACHE_NOT_FOUND', 'cache does not exist');
    return this.readModels.listKeys(ref, this.clock.now());
  }

  /** Live keys straight from the entity's state (no projection). */
  async liveKeys(principal: Principal, cacheName: string): Promise<string[]> {
    return [...liveKeys(await this.state(principal, cacheName), this.clock.now())];
  }

  async cacheNames(principal: Principal): Promise<CacheNameRow[]> {
    return this.readModels.listCaches(principal.org);
  }

  now(): number {
    return this.clock.now();
  }
}

/** Commands that create their cache when it does not exist. */
function mayCreateCache(command: CacheCommand): boolean {
  return command.type === 'CreateCache' || command.type === 'Increment' || (command.type === 'SetValue' && !command.requireCache);
}

/** How an API family words a domain rejection. */
export type RejectionMapper = (error: DomainError) => Error;

export const nativeRejection: RejectionMapper = (error) => new ApiError(DOMAIN_STATUS[error.code], error.code, error.message);

/** Domain rejections are plain data; anything thrown (a storage failure) stays as it is. */
export function rejectionError(error: DomainError | Error, toError: RejectionMapper): Error {
  return error instanceof Error ? error : toError(error);
}

const MAX_DEVICE_ID = 256;

/** Who and from where, for the event's audit fields. */
export function commandMeta(principal: Principal, request: FastifyRequest): { by: string; device: string | null } {
  const device = request.headers['x-device-id'];
  return { by: principal.name, device: typeof device === 'string' && device.length > 0 ? device.slice(0, MAX_DEVICE_ID) : null };
}
