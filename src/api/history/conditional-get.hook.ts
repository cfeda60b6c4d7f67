import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../../config/settings';
import type { JournalConfig } from '../../config/journal';
import { InlineReadModels } from '../../journal/inline-read-models';
import { Journal } from '../../journal/journal';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntityRegistry, SeqNotReachedError } from '../../entities/entity-registry';
import { familyOfRequest } from '../edge/request-family';
import { routeConfig } from '../edge/route-config';
import { ApiError } from '../errors/api-error';
import { HistoryService } from './history.service';
import { sendError } from '../errors/http-error.filter';
import { PointQuery, etagOf, isPointInTime, matchesIfNoneMatch, namesAnyTag, parsePoint, pointEtagOf } from './point-in-time';

/** 255 characters (code points) take at most 510 UTF-16 units; the handler checks the exact limit. */
const MAX_NAME_UNITS = 510;

/** Read-your-writes: the seq a read must see, from `?minSeq=` or the `X-Cachelog-Min-Seq` header. */
function minSeqOf(request: FastifyRequest): string | undefined {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.minSeq;
  if (fromQuery !== undefined) return String(fromQuery);
  const header = request.headers['x-cachelog-min-seq'];
  return Array.isArray(header) ? header[0] : header;
}

function parseMinSeq(raw: string): number {
  const seq = /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ApiError(400, 'INVALID_REQUEST', `minSeq must be a whole number >= 1, got ${JSON.stringify(raw.slice(0, 40))}`);
  return seq;
}

/** The `minSeq` of each read of one cache, taken in `onRequest`: a route's contract drops query parameters it does not declare. */
const minSeqs = new WeakMap<FastifyRequest, number>();
/** Reads whose `If-None-Match` is `*`: judged by their answer (see `onSend`). */
const anyTag = new WeakSet<FastifyRequest>();
/** Reads answered 200 for something that does not exist (the JSON read of a missing key). */
const noRepresentation = new WeakSet<FastifyRequest>();

/**
 * A handler that answers 2xx for something that does not exist (`GET /get/{c}/{k}` of a missing
 * key: `success: false`) says so, so that `If-None-Match: *` does not match it.
 */
export function markNoRepresentation(request: FastifyRequest): void {
  noRepresentation.add(request);
}

/** GET or HEAD of a route with a cache name in its path (any family): the reads `minSeq` applies to. */
function readsOneCache(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const cacheName = (request.params as Record<string, unknown> | undefined)?.cacheName;
  return typeof cacheName === 'string' && cacheName.length > 0;
}

function rethrowAsApiError(error: unknown): never {
  if (error instanceof SeqNotReachedError) throw new ApiError(400, error.code, error.message);
  throw error;
}

/**
 * Read-your-writes and conditional reads, for every request that reads one cache.
 *
 * `minSeq` (`?minSeq=` or `X-Cachelog-Min-Seq`) is honoured on every GET/HEAD with a cache name
 * in its path, whatever the family (native, history and its stream, settings, IronCache,
 * Momento): the read waits for this node to see that seq (400 MIN_SEQ_NOT_REACHED when the
 * journal has no such seq). Every other authenticated route (listings, tasks, batches, writes)
 * refuses it with 400 rather than ignore it.
 *
 * ETag and `If-None-Match` for every GET of a family whose reads carry ETags: the tag is the
 * cache's sequence number (or, for `?at=`/`?asOf=` reads, the sequence number of that point),
 * and a tag match is answered 304 before the handler runs (preHandler, so handlers need no
 * change; the tag is read before the handler, so it is never newer than the body). `*`
 * matches only a current representation (RFC 9110): it is judged by the handler's answer,
 * which becomes 304 only when it is a 200 for something that exists (a missing key is 404, or
 * for `/get/{c}/{k}` a 200 miss the handler marks). Requests it cannot judge (bad input) pass
 * through for the handler to reject. It runs after the edge authenticated the request and
 * counted it against the rate limit, so a 304 costs a token's budget like any answer.
 */
@Injectable()
export class ConditionalGetHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly history: HistoryService,
    private readonly registry: EntityRegistry,
    private readonly readModels: InlineReadModels,
    private readonly journal: Journal,
    @Inject(APP_CONFIG) private readonly config: JournalConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // After the edge's onRequest (it attached the principal): minSeq is taken or refused before the body.
    fastify.addHook('onRequest', (request, reply, done) => {
      if (request.principal === null || routeConfig(request).url === undefined) return done();
      const raw = minSeqOf(request);
      if (raw === undefined) return done();
      try {
        const seq = parseMinSeq(raw);
        if (!readsOneCache(request)) {
          throw new ApiError(400, 'INVALID_REQUEST', `minSeq: ${request.method} ${routeConfig(request).url} reads no single cache; minSeq (a cache's sequence number) applies to GET and HEAD of one cache only`);
        }
        minSeqs.set(request, seq);
      } catch (error) {
        sendError(error, request, reply);
        return;
      }
      done();
    });
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (!anyTag.has(request) || reply.statusCode !== 200 || noRepresentation.has(request)) return done(null, payload);
      void reply.code(304).removeHeader('content-type').removeHeader('content-length');
      done(null, '');
    });
    // A callback hook with a synchronous path for plain reads of a ready cache: an async
    // hook cost every GET a promise and a microtask hop (measured in the GET benchmark).
    fastify.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return done();
      if (this.handleNow(request, reply, done)) return;
      this.handle(request, reply).then(
        (answered) => answered !== reply && done(),
        (error) => done(error as Error),
      );
    });
  }

  /** Handles a plain (not point-in-time) read of a ready cache synchronously; false: not handled. */
  private handleNow(request: FastifyRequest, reply: FastifyReply, done: () => void): boolean {
    if (isPointInTime(request.query as PointQuery | undefined) || minSeqs.has(request)) return false;
    const route = routeConfig(request).url;
    if (route === undefined || !route.includes(':cacheName') || route.endsWith('/stream')) return (done(), true);
    const cacheName = (request.params as Record<string, unknown> | undefined)?.cacheName;
    if (typeof cacheName !== 'string' || cacheName.length === 0 || cacheName.length > MAX_NAME_UNITS) return (done(), true);
    const org = nativeOrg(request);
    if (org === undefined) return (done(), true);
    const seq = this.history.currentSeqNow({ org, name: cacheName });
    if (typeof seq !== 'number') {
      seq.catch(() => undefined); // `handle` asks again and answers (a failed recovery included)
      return false;
    }
    if (seq === 0) return (done(), true);
    const etag = etagOf(seq);
    void reply.header('etag', etag);
    if (this.notModified(request, etag)) void reply.code(304).send();
    else done();
    return true;
  }

  /** A tag match (304 now); `*` marks the read to be judged by its answer. */
  private notModified(request: FastifyRequest, etag: string): boolean {
    const header = request.headers['if-none-match'];
    if (matchesIfNoneMatch(header, etag, false)) return true;
    if (namesAnyTag(header)) anyTag.add(request);
    return false;
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const route = routeConfig(request).url;
    if (route === undefined || !route.includes(':cacheName')) return;
    const cacheName = (request.params as Record<string, unknown> | undefined)?.cacheName;
    if (typeof cacheName !== 'string' || cacheName.length === 0 || cacheName.length > MAX_NAME_UNITS || request.principal === null) return;
    const minSeq = minSeqs.get(request);
    if (minSeq !== undefined) {
      await this.registry.reach({ org: request.principal.org, name: cacheName }, minSeq).catch(rethrowAsApiError);
      // Listings come from read models, which a shared journal's node applies a moment later.
      await this.readModels.whenApplied(this.journal.highestOffset, this.config.nats?.timeoutMs ?? 0);
    }
    if (route.endsWith('/stream')) return;
    const org = nativeOrg(request);
    if (org === undefined) return;
    const ref = { org, name: cacheName };
    let etag: string;
    try {
      const query = request.query as PointQuery | undefined;
      if (isPointInTime(query)) {
        etag = pointEtagOf(await this.history.resolve(ref, parsePoint(query!)));
      } else {
        const seq = await this.history.currentSeq(ref);
        if (seq === 0) return;
        etag = etagOf(seq);
      }
    } catch {
      return;
    }
    void reply.header('etag', etag);
    if (this.notModified(request, etag)) {
      await reply.code(304).send();
      return reply;
    }
  }
}

/** The caller's org (the edge attached it) where the family's reads carry ETags (not IronCache's or Momento's). */
function nativeOrg(request: FastifyRequest): string | undefined {
  return request.principal !== null && familyOfRequest(request).conditionalReads ? request.principal.org : undefined;
}
