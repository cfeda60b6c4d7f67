import { Controller, Delete, Get, HttpCode, Param, Put, Query, Req, Res } from '@nestjs/common';
import { z } from 'zod';
import { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheCommand } from '../../domain';
import { FAMILIES } from '../../families';
import { CacheService, commandMeta, rejectionError } from '../cache.service';
import { ApiError, refusedBy } from '../errors/api-error';
import { asBuffer } from '../native/binary';
import { CacheNameParams } from '../contract/params';
import { Route, RouteContract, empty, error } from '../contract/route-contract';
import { keyField, parseInput, ttlSecondsField } from '../validation';

interface KeyQuery {
  key?: unknown;
  key_base64?: unknown;
  ttl_seconds?: unknown;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Examples are those of the Momento HTTP API reference. The key rules (exactly one of
// key and key_base64, base64url of UTF-8 text) are checked by `momentoKey`, run by the schema.
const keyQueryFields = {
  key: z.string().meta({ description: 'the key as text (one of key and key_base64)', example: 'example_key' }).optional(),
  key_base64: z.string().meta({ description: "base64url of the key's UTF-8 bytes", example: 'ZXhhbXBsZV9rZXk' }).optional(),
  token: z.string().meta({ description: 'the token, when not in the Authorization header' }).optional(),
};
const KeyQueryDto = z.object(keyQueryFields).transform((query) => ({ key: momentoKey(query) }));
const SetQueryDto = z
  .object({ ...keyQueryFields, ttl_seconds: z.string().meta({ description: 'whole seconds >= 1', example: '300' }).optional() })
  .transform((query) => ({ key: momentoKey(query), ttlSeconds: momentoTtl(query.ttl_seconds) }));

export const MomentoContracts = {
  get: {
    family: 'momento',
    summary: 'Get a value (raw bytes)',
    params: CacheNameParams,
    query: KeyQueryDto,
    responses: {
      200: { description: 'the value', contentType: 'application/octet-stream', schema: z.string().meta({ format: 'binary' }), example: 'example value' },
      404: error('Cache Not Found, or Key Not Found', 'CACHE_NOT_FOUND', 'KEY_NOT_FOUND'),
    },
  },
  set: {
    family: 'momento',
    summary: 'Set a value (the raw body) with a TTL',
    params: CacheNameParams,
    query: SetQueryDto,
    body: { contentType: 'application/octet-stream', example: 'example value', size: 'value-raw' },
    responses: {
      204: empty('stored (durable)'),
      400: error('the value is too large, or the cache does not store empty values', 'VALUE_TOO_LARGE', 'EMPTY_VALUE_REJECTED'),
      404: error('Cache Not Found', 'CACHE_NOT_FOUND'),
      409: error('the key exists or changed', 'KEY_EXISTS', 'CAS_MISMATCH'),
      415: error('a JSON body', 'UNSUPPORTED_MEDIA_TYPE'),
      429: error('account limits: the byte quota or the number of caches', 'QUOTA_EXCEEDED', 'CACHE_LIMIT_REACHED'),
    },
  },
  delete: {
    family: 'momento',
    summary: 'Delete a key (idempotent)',
    params: CacheNameParams,
    query: KeyQueryDto,
    responses: { 204: empty('deleted (or was not there)'), 404: error('Cache Not Found', 'CACHE_NOT_FOUND') },
  },
} satisfies Record<string, RouteContract>;

/**
 * The Momento-compatible HTTP API: `GET|PUT|DELETE /cache/{cacheName}?key=...`. Values are
 * raw bytes both ways. Caches are not created here (as in Momento): a missing one is 404.
 */
@Controller('cache')
export class MomentoController {
  constructor(private readonly caches: CacheService) {}

  @Get(':cacheName')
  @Route(MomentoContracts.get)
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Query() { key }: z.infer<typeof KeyQueryDto>, @Res() reply: FastifyReply) {
    const state = await this.caches.state(principal, cacheName);
    if (state.status !== 'live') throw refusedBy(FAMILIES.momento, { code: 'CACHE_NOT_FOUND', cacheName });
    const value = await this.caches.value(principal, cacheName, key);
    if (value === undefined) throw refusedBy(FAMILIES.momento, { code: 'KEY_NOT_FOUND', cacheName });
    await reply.header('content-type', 'application/octet-stream').send(asBuffer(value));
  }

  @Put(':cacheName')
  @HttpCode(204)
  @Route(MomentoContracts.set)
  async set(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Query() { key, ttlSeconds }: z.infer<typeof SetQueryDto>,
    @Req() request: FastifyRequest,
  ) {
    await this.send(principal, cacheName, { type: 'SetValue', key, value: binaryBody(request.body), ttlSeconds, requireCache: true, ...commandMeta(principal, request) });
  }

  @Delete(':cacheName')
  @HttpCode(204)
  @Route(MomentoContracts.delete)
  async delete(@CurrentPrincipal() principal: Principal, @Param('cacheName') cacheName: string, @Query() { key }: z.infer<typeof KeyQueryDto>, @Req() request: FastifyRequest) {
    const reply = await this.caches.ask(principal, cacheName, { type: 'DeleteKey', key, ...commandMeta(principal, request) });
    // Momento deletes are idempotent: a key that is not there is deleted already.
    if (!reply.ok && !('code' in reply.error && reply.error.code === 'KEY_NOT_FOUND')) throw rejectionError(reply.error, FAMILIES.momento, cacheName);
  }

  private async send(principal: Principal, cacheName: string, command: CacheCommand): Promise<void> {
    await this.caches.execute(principal, cacheName, command, FAMILIES.momento);
  }
}

/** `key` (URL-safe text) or `key_base64` (base64url of the key's UTF-8 bytes), exactly one. */
function momentoKey(query: KeyQuery): string {
  const { key, key_base64: keyBase64 } = query;
  if (key !== undefined && keyBase64 !== undefined) throw ApiError.of('INVALID_REQUEST', 'specify key or key_base64, not both');
  if (typeof keyBase64 === 'string') {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(keyBase64)) throw ApiError.of('INVALID_REQUEST', 'key_base64 must be base64url');
    let text: string;
    try {
      text = strictUtf8.decode(Buffer.from(keyBase64, 'base64url'));
    } catch {
      throw ApiError.of('INVALID_REQUEST', 'key_base64 must decode to UTF-8 text (cachelog keys are text)');
    }
    return checkKey(text, 'key_base64');
  }
  if (typeof key === 'string') return checkKey(key, 'key');
  throw ApiError.of('INVALID_REQUEST', 'a key is required: key or key_base64');
}

function checkKey(key: string, name: string): string {
  const result = keyField.safeParse(key);
  if (!result.success) throw ApiError.of('INVALID_REQUEST', `${name}: ${result.error.issues[0].message}`);
  return result.data;
}

function momentoTtl(raw: unknown): number {
  if (raw === undefined) throw ApiError.of('INVALID_REQUEST', 'ttl_seconds is required');
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw) || Number(raw) < 1) {
    throw ApiError.of('INVALID_REQUEST', 'ttl_seconds must be a whole number of seconds >= 1');
  }
  return parseInput(ttlSecondsField, Number(raw));
}

/** The value is the raw body (octet-stream or any non-JSON type). */
function binaryBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  throw ApiError.of('UNSUPPORTED_MEDIA_TYPE', 'send the value as application/octet-stream');
}
