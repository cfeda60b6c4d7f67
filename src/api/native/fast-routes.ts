import { etagOf } from '../history/point-in-time';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Principal } from '../../auth/principal';
import type { Entry } from '../../domain';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';
import { HistoryService } from '../history/history.service';
import { PointQuery, isPointInTime } from '../history/point-in-time';
import { RequestValidator, compileValidator } from '../contract/contract-validation';
import { routeConfigOf } from '../contract/route-contract';
import { asBuffer, requireBinaryBody } from './binary';
import { NativeContracts } from './native.contracts';
import { HttpEdge } from '../edge/http-edge';

type Params = { cacheName: string; key: string };

/** The key's expiry (ISO 8601) on a current binary read; absent when the key never expires. */
export const EXPIRES_AT_HEADER = 'x-cachelog-expires-at';

const isJson = (request: FastifyRequest) => /^application\/json\b/i.test(request.headers['content-type'] ?? '');

/**
 * The two hottest native routes, `GET /:cacheName/:key` (with `?at=`/`?asOf=` reads of
 * the past) and `POST /:cacheName/:key`, registered on Fastify directly: the same edge
 * (token, rate limit), validation, commands and error bodies as the Nest controllers,
 * without Nest's per-request guard, param-decorator and pipe machinery, which measured
 * ~30 % of a GET hit (see docs/benchmarks.md). Fastify hooks (ETag / If-None-Match) apply.
 * They are declared through the same contracts (native.contracts.ts) as every route, so they
 * are in the OpenAPI document; their compiled validators run inline in the handler rather
 * than as a `preValidation` hook (one hook less per request on the hottest path).
 */
@Injectable()
export class NativeFastRoutes {
  private readonly checkGet: RequestValidator;
  private readonly checkSet: RequestValidator;

  constructor(
    private readonly caches: CacheService,
    private readonly edge: HttpEdge,
    private readonly history: HistoryService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.checkGet = compileValidator(NativeContracts.getBinary, config)!;
    this.checkSet = compileValidator(NativeContracts.setBinary, config)!;
  }

  register(fastify: FastifyInstance): void {
    fastify.get<{ Params: Params }>('/:cacheName/:key', { config: { ...routeConfigOf(NativeContracts.getBinary), validatesInline: true } }, (request, reply) => this.get(request, reply));
    // A binary body is read in `onRequest` by the edge's reader, before Fastify's content-type
    // parsing, which measured at half the throughput of reading the stream directly; JSON
    // bodies go the usual way (parsed, then refused with 415 by the handler).
    fastify.post<{ Params: Params }>(
      '/:cacheName/:key',
      {
        config: { ...routeConfigOf(NativeContracts.setBinary), validatesInline: true },
        onRequest: (request, reply, done) => (isJson(request) ? done() : this.edge.readRawBody(request, reply, (body) => this.set(request, reply, body))),
      },
      (request, reply) => this.set(request, reply, request.body),
    );
  }

  /** Attached by the edge (HttpEdge) in `onRequest`, before this route's own hook reads the body. */
  private principal(request: FastifyRequest): Principal {
    return request.principal!;
  }

  private get(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): void {
    try {
      const principal = this.principal(request);
      this.checkGet(request);
      const { cacheName, key } = request.params;
      const query = request.query as PointQuery | undefined;
      // A read of the past answers the value as it was, without an expiry header; a current
      // read answers the entry, whose expiry goes in X-Cachelog-Expires-At.
      const found: Entry | Uint8Array | undefined | Promise<Entry | Uint8Array | undefined> = isPointInTime(query)
        ? this.history.valueAt(principal, cacheName, key, query!)
        : this.caches.entryNow(principal, cacheName, key);
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

  private sendValue(found: Entry | Uint8Array | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (found === undefined) {
      sendError(new ApiError(404, 'KEY_NOT_FOUND', 'key does not exist'), request, reply);
      return;
    }
    if (found instanceof Uint8Array) {
      void reply.header('content-type', 'application/octet-stream').send(asBuffer(found));
      return;
    }
    if (found.expiresAt !== 0) void reply.header(EXPIRES_AT_HEADER, new Date(found.expiresAt).toISOString());
    void reply.header('content-type', 'application/octet-stream').send(asBuffer(found.value));
  }

  private set(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply, body: unknown): void {
    try {
      const principal = this.principal(request);
      this.checkSet(request);
      const { cacheName, key } = request.params;
      const value = requireBinaryBody(body);
      this.caches.execute(principal, cacheName, { type: 'SetValue', key, value, ttlSeconds: 0, ...commandMeta(principal, request) }).then(
        ({ envelopes }) => {
          // The write's seq, for read-your-writes on another node (`?minSeq=` / X-Cachelog-Min-Seq).
          if (envelopes.length > 0) void reply.header('etag', etagOf(envelopes[envelopes.length - 1].seq));
          void reply.code(201).send();
        },
        (error) => sendError(error, request, reply),
      );
    } catch (error) {
      sendError(error, request, reply);
    }
  }
}
