import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../../auth/auth.service';
import { Principal } from '../../auth/principal';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';
import { pathParam } from '../validation';
import { asBuffer, requireBinaryBody } from './binary';

type Params = { cacheName: string; key: string };

/**
 * The two hottest native routes, `GET /:cacheName/:key` and `POST /:cacheName/:key`,
 * registered on Fastify directly: the same auth, validation, commands and error bodies
 * as the Nest controllers, without Nest's per-request guard, param-decorator and pipe
 * machinery, which measured ~30 % of a GET hit (see docs/benchmarks.md).
 */
@Injectable()
export class NativeFastRoutes {
  constructor(
    private readonly auth: AuthService,
    private readonly caches: CacheService,
  ) {}

  register(fastify: FastifyInstance): void {
    fastify.get<{ Params: Params }>('/:cacheName/:key', (request, reply) => this.get(request, reply));
    fastify.post<{ Params: Params }>('/:cacheName/:key', (request, reply) => this.set(request, reply));
  }

  private principal(request: FastifyRequest): Principal {
    const header = request.headers.authorization;
    const token = header !== undefined && header.length > 7 && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    return this.auth.verify(token);
  }

  private get(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): void {
    try {
      const principal = this.principal(request);
      const found = this.caches.valueNow(principal, pathParam(request.params.cacheName, 'cacheName'), pathParam(request.params.key, 'key'));
      if (found instanceof Promise) {
        found.then(
          (value) => this.sendValue(value, request, reply),
          (error) => sendError(error, request, reply),
        );
      } else this.sendValue(found, request, reply);
    } catch (error) {
      sendError(error, request, reply);
    }
  }

  private sendValue(value: Uint8Array | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (value === undefined) sendError(new ApiError(404, 'KEY_NOT_FOUND', 'key does not exist'), request, reply);
    else void reply.header('content-type', 'application/octet-stream').send(asBuffer(value));
  }

  private set(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): void {
    try {
      const principal = this.principal(request);
      const cacheName = pathParam(request.params.cacheName, 'cacheName');
      const key = pathParam(request.params.key, 'key');
      const value = requireBinaryBody(request.body);
      this.caches.execute(principal, cacheName, { type: 'SetValue', key, value, ttlSeconds: 0, ...commandMeta(principal, request) }).then(
        () => void reply.code(201).send(),
        (error) => sendError(error, request, reply),
      );
    } catch (error) {
      sendError(error, request, reply);
    }
  }
}
