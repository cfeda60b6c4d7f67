import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HistoryService } from './history.service';
import { PointQuery, etagOf, isPointInTime, matchesIfNoneMatch, namesAnyTag, parsePoint, pointEtagOf } from './point-in-time';
import { waitsForSeq } from './read-your-writes';

/** 255 characters (code points) take at most 510 UTF-16 units; the handler checks the exact limit. */
const MAX_NAME_UNITS = 510;

/** Reads whose `If-None-Match` is `*`: judged by their answer (see `judgeAnyTag`). */
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

/**
 * ETags and conditional reads, on the routes of the families whose reads carry them (the
 * pipeline, http-pipeline.ts, gives each route the hooks its contract calls for):
 * - a read of one cache (`check`, preHandler): the tag is the cache's sequence number (or, for
 *   `?at=`/`?asOf=` reads, that point's), and a tag match is answered 304 before the handler
 *   runs (the tag is read before the handler, so it is never newer than the body). `*` matches
 *   only a current representation (RFC 9110): it is judged by the handler's answer
 *   (`judgeAnyTag`, onSend), which becomes 304 only when it is a 200 for something that exists
 *   (a missing key is 404, or for `/get/{c}/{k}` a 200 miss the handler marks). Requests it
 *   cannot judge (bad input) pass through for the handler to reject. It runs after the edge
 *   authenticated the request and counted it against the rate limit, so a 304 costs a token's
 *   budget like any answer;
 * - a write to one cache (`tagWrite`, onSend): `ETag: "v<seq>"`, the cache's seq once the write
 *   is applied (a later write's, if one came in between: never older than the write), the seq a
 *   later read may ask for with `minSeq` (read-your-writes on another node). A write to several
 *   caches at once (a batch over more than one) has no one seq and carries no ETag.
 */
@Injectable()
export class ConditionalReads {
  constructor(private readonly history: HistoryService) {}

  /**
   * `preHandler` of a read of one cache: a callback hook with a synchronous path for plain reads
   * of a ready cache (an async hook cost every GET a promise and a microtask hop, measured).
   */
  readonly check = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    if (this.checkNow(request, reply, done)) return;
    this.checkLater(request, reply).then(
      (answered) => answered !== reply && done(),
      (error) => done(error as Error),
    );
  };

  /** `onSend` of the reads: a `*` read becomes 304 when its answer is a current representation. */
  readonly judgeAnyTag = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void => {
    if (!anyTag.has(request) || reply.statusCode !== 200 || noRepresentation.has(request)) return done(null, payload);
    void reply.code(304).removeHeader('content-type').removeHeader('content-length');
    done(null, '');
  };

  /** `onSend` of the writes: the seq of the one cache written. */
  readonly tagWrite = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void => {
    const cacheName = reply.statusCode < 300 && !reply.hasHeader('etag') ? writtenCacheOf(request) : undefined;
    const ref = cacheName === undefined ? undefined : refOf(request, cacheName);
    if (ref === undefined) return done(null, payload);
    const tag = (seq: number) => {
      if (seq > 0) void reply.header('etag', etagOf(seq));
      done(null, payload);
    };
    const seq = this.history.currentSeqNow(ref);
    if (typeof seq === 'number') tag(seq);
    else seq.then(tag, () => done(null, payload));
  };

  /** Handles a plain (not point-in-time) read of a ready cache synchronously; false: not handled. */
  private checkNow(request: FastifyRequest, reply: FastifyReply, done: () => void): boolean {
    if (isPointInTime(request.query as PointQuery | undefined) || waitsForSeq(request)) return false;
    const ref = refOf(request);
    if (ref === undefined) return (done(), true);
    const seq = this.history.currentSeqNow(ref);
    if (typeof seq !== 'number') {
      seq.catch(() => undefined); // `checkLater` asks again and answers (a failed recovery included)
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

  private async checkLater(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const ref = refOf(request);
    if (ref === undefined) return;
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

/** The caller's cache the request names; undefined for input the handler will refuse. */
function refOf(request: FastifyRequest, cacheName: unknown = (request.params as Record<string, unknown> | undefined)?.cacheName): { org: string; name: string } | undefined {
  if (typeof cacheName !== 'string' || cacheName.length === 0 || cacheName.length > MAX_NAME_UNITS || request.principal === null) return undefined;
  return { org: request.principal.org, name: cacheName };
}

type Named = { cacheName?: unknown };

/** The one cache a write names: in its path, in its body (`/set`, `/cacheName`), or in every element of a batch. */
function writtenCacheOf(request: FastifyRequest): unknown {
  const inPath = (request.params as Named | undefined)?.cacheName;
  if (inPath !== undefined) return inPath;
  const body = request.body as (Named & { cacheRequests?: unknown; getCachedBatch?: unknown }) | undefined;
  if (body === undefined || body === null || typeof body !== 'object') return undefined;
  const batch = body.cacheRequests ?? body.getCachedBatch;
  if (!Array.isArray(batch)) return body.cacheName;
  const names = new Set(batch.map((element: Named) => element?.cacheName));
  return names.size === 1 ? [...names][0] : undefined;
}
