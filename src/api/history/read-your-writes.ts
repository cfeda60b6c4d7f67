import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../../config/settings';
import type { JournalConfig } from '../../config/journal';
import { EntityRegistry, SeqNotReachedError } from '../../entities/entity-registry';
import { InlineReadModels } from '../../journal/inline-read-models';
import { Journal } from '../../journal/journal';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';

/** The `minSeq` of each read of one cache, taken in `onRequest`: a route's contract drops query parameters it does not declare. */
const minSeqs = new WeakMap<FastifyRequest, number>();

/** Read-your-writes: the seq a read must see, from `?minSeq=` or the `X-Cachelog-Min-Seq` header. */
function minSeqOf(request: FastifyRequest): string | undefined {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.minSeq;
  if (fromQuery !== undefined) return String(fromQuery);
  const header = request.headers['x-cachelog-min-seq'];
  return Array.isArray(header) ? header[0] : header;
}

function parseMinSeq(raw: string): number {
  const seq = /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw ApiError.of('INVALID_REQUEST', `minSeq must be a whole number >= 1, got ${JSON.stringify(raw.slice(0, 40))}`);
  return seq;
}

/** Whether the read waits for a `minSeq` (ConditionalReads then asks for the cache's seq after the wait). */
export const waitsForSeq = (request: FastifyRequest): boolean => minSeqs.has(request);

/**
 * Read-your-writes (`?minSeq=` or `X-Cachelog-Min-Seq`, from a write's `ETag: "v<seq>"`), on
 * every read of one cache whatever the family (native, history and its stream, settings,
 * IronCache, Momento): the read waits for this node to see that seq (400 MIN_SEQ_NOT_REACHED
 * when the journal has no such seq). Every other authenticated route (listings, tasks,
 * batches, writes) refuses it with 400 rather than ignore it. The pipeline (http-pipeline.ts)
 * gives each route the hooks its shape needs: `take` to every route, `reach` to the reads.
 */
@Injectable()
export class ReadYourWrites {
  constructor(
    private readonly registry: EntityRegistry,
    private readonly readModels: InlineReadModels,
    private readonly journal: Journal,
    @Inject(APP_CONFIG) private readonly config: JournalConfig,
  ) {}

  /** `onRequest`, after the edge attached the principal: `minSeq` taken by a read of one cache, refused elsewhere, before any body is read. */
  take(readsOneCache: boolean) {
    return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      if (request.principal === null) return done();
      const raw = minSeqOf(request);
      if (raw === undefined) return done();
      try {
        const seq = parseMinSeq(raw);
        if (!readsOneCache) {
          throw ApiError.of('INVALID_REQUEST', `minSeq: ${request.method} ${request.routeOptions.url} reads no single cache; minSeq (a cache's sequence number) applies to GET and HEAD of one cache only`);
        }
        minSeqs.set(request, seq);
      } catch (error) {
        sendError(error, request, reply);
        return;
      }
      done();
    };
  }

  /** `preHandler` of a read of one cache: waits until this node has seen the seq (and, for listings, its read models have). */
  readonly reach = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    const seq = minSeqs.get(request);
    const cacheName = (request.params as Record<string, unknown> | undefined)?.cacheName;
    if (seq === undefined || request.principal === null || typeof cacheName !== 'string') return done();
    this.registry
      .reach({ org: request.principal.org, name: cacheName }, seq)
      // Listings come from read models, which a shared journal's node applies a moment later.
      .then(() => this.readModels.whenApplied(this.journal.highestOffset, this.config.nats?.timeoutMs ?? 0))
      .then(
        () => done(),
        (error: unknown) => done(error instanceof SeqNotReachedError ? new ApiError(400, error.code, error.message) : (error as Error)),
      );
  };
}
