import { Controller, Delete, Get, HttpCode, Param, Put, Query, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheCommand, DomainError } from '../../domain';
import { CacheService, commandMeta, rejectionError } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { asBuffer } from '../native/binary';
import { keyField, parseInput, pathParam, ttlSecondsField } from '../validation';
import { MomentoAuthGuard } from './momento-auth.guard';

/** Status and text of each domain rejection, in Momento's terms. */
const MOMENTO_ERRORS: Record<DomainError['code'], [number, string]> = {
  CACHE_NOT_FOUND: [404, 'Cache Not Found'],
  KEY_NOT_FOUND: [404, 'Key Not Found'],
  QUOTA_EXCEEDED: [429, 'Account limits exceeded: the organisation has reached its byte quota'],
  VALUE_TOO_LARGE: [400, 'Value too large for this cache'],
  INVALID_ARGUMENT: [400, 'Bad request'],
  KEY_EXISTS: [409, 'Key already exists'],
  CAS_MISMATCH: [409, 'Key was changed since'],
  NOT_A_NUMBER: [400, 'Value is not a number'],
  NUMBER_OUT_OF_RANGE: [400, 'Number out of range'],
  EMPTY_VALUE_REJECTED: [400, 'This cache does not store empty values'],
  CACHE_LIMIT_REACHED: [429, 'Account limits exceeded: the organisation has reached its maximum number of caches'],
};

interface KeyQuery {
  key?: unknown;
  key_base64?: unknown;
  ttl_seconds?: unknown;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The Momento-compatible HTTP API: `GET|PUT|DELETE /cache/{cacheName}?key=...`. Values are
 * raw bytes both ways. Caches are not created here (as in Momento): a missing one is 404.
 */
@Controller('cache')
@UseGuards(MomentoAuthGuard)
export class MomentoController {
  constructor(private readonly caches: CacheService) {}

  @Get(':cacheName')
  async get(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Query() query: KeyQuery, @Res() reply: FastifyReply) {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = momentoKey(query);
    const state = await this.caches.state(principal, cacheName);
    if (state.status !== 'live') throw momentoError('CACHE_NOT_FOUND');
    const value = await this.caches.value(principal, cacheName, key);
    if (value === undefined) throw momentoError('KEY_NOT_FOUND');
    await reply.header('content-type', 'application/octet-stream').send(asBuffer(value));
  }

  @Put(':cacheName')
  @HttpCode(204)
  async set(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Query() query: KeyQuery, @Req() request: FastifyRequest) {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = momentoKey(query);
    const ttlSeconds = momentoTtl(query.ttl_seconds);
    await this.send(principal, cacheName, { type: 'SetValue', key, value: binaryBody(request.body), ttlSeconds, requireCache: true, ...commandMeta(principal, request) });
  }

  @Delete(':cacheName')
  @HttpCode(204)
  async delete(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Query() query: KeyQuery, @Req() request: FastifyRequest) {
    const cacheName = pathParam(rawName, 'cacheName');
    const key = momentoKey(query);
    const reply = await this.caches.ask(principal, cacheName, { type: 'DeleteKey', key, ...commandMeta(principal, request) });
    // Momento deletes are idempotent: a key that is not there is deleted already.
    if (!reply.ok && !('code' in reply.error && reply.error.code === 'KEY_NOT_FOUND')) throw rejectionError(reply.error, toMomentoError);
  }

  private async send(principal: Principal, cacheName: string, command: CacheCommand): Promise<void> {
    await this.caches.execute(principal, cacheName, command, toMomentoError);
  }
}

const toMomentoError = (error: DomainError) => momentoError(error.code, error.message);

function momentoError(code: DomainError['code'], detail?: string): ApiError {
  const [status, text] = MOMENTO_ERRORS[code];
  return new ApiError(status, code, code === 'INVALID_ARGUMENT' && detail ? `${text}: ${detail}` : text);
}

/** `key` (URL-safe text) or `key_base64` (base64url of the key's UTF-8 bytes), exactly one. */
function momentoKey(query: KeyQuery): string {
  const { key, key_base64: keyBase64 } = query;
  if (key !== undefined && keyBase64 !== undefined) throw new ApiError(400, 'INVALID_REQUEST', 'specify key or key_base64, not both');
  if (typeof keyBase64 === 'string') {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(keyBase64)) throw new ApiError(400, 'INVALID_REQUEST', 'key_base64 must be base64url');
    let text: string;
    try {
      text = strictUtf8.decode(Buffer.from(keyBase64, 'base64url'));
    } catch {
      throw new ApiError(400, 'INVALID_REQUEST', 'key_base64 must decode to UTF-8 text (cachelog keys are text)');
    }
    return checkKey(text, 'key_base64');
  }
  if (typeof key === 'string') return checkKey(key, 'key');
  throw new ApiError(400, 'INVALID_REQUEST', 'a key is required: key or key_base64');
}

function checkKey(key: string, name: string): string {
  const result = keyField.safeParse(key);
  if (!result.success) throw new ApiError(400, 'INVALID_REQUEST', `${name}: ${result.error.issues[0].message}`);
  return result.data;
}

function momentoTtl(raw: unknown): number {
  if (raw === undefined) throw new ApiError(400, 'INVALID_REQUEST', 'ttl_seconds is required');
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw) || Number(raw) < 1) {
    throw new ApiError(400, 'INVALID_REQUEST', 'ttl_seconds must be a whole number of seconds >= 1');
  }
  return parseInput(ttlSecondsField, Number(raw));
}

/** The value is the raw body (octet-stream or any non-JSON type). */
function binaryBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the value as application/octet-stream');
}
