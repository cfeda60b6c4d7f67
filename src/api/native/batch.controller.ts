import { Body, Controller, Delete, HttpCode, Inject, Post, Req, StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import { FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheService, commandMeta } from '../cache.service';
import { Route } from '../contract/route-contract';
import { ELEMENT_ENVELOPE_BYTES, STREAMED_ANSWER_BYTES, STREAM_HIGH_WATER_BYTES, batchAnswer, batchElement } from './batch-answer';
import { BatchCacheRequest, BatchGetRequest } from './dto/native.dto';
import { NativeContracts } from './native.contracts';
import { APP_CONFIG } from '../../config/settings';
import type { EdgeConfig } from '../../config/edge';
import { mapInTurns } from '../../core/turns';
import { ResponseBudget, base64Length, jsonStringBytes } from '../edge/response-budget';

/** An answer awaited later, after turns of the event loop: should it fail meanwhile, that is not an unhandled rejection (it is seen when awaited). */
function settledLater<T>(answer: Promise<T>): Promise<T> {
  answer.catch(() => undefined);
  return answer;
}

/** Elements of a `POST /batch/get` looked up side by side. */
const LOOKUPS_AT_ONCE = 256;

/**
 * Batches: the whole body is validated first (one bad element: 400, nothing written), then
 * every element is sent to its cache; elements of different caches run side by side.
 */
@Controller('batch')
export class BatchController {
  constructor(
    private readonly caches: CacheService,
    @Inject(APP_CONFIG) private readonly config: EdgeConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @Route(NativeContracts.batchSet)
  async set(@CurrentPrincipal() principal: Principal, @Body() { cacheRequests }: BatchCacheRequest, @Req() request: FastifyRequest) {
    const meta = commandMeta(principal, request);
    // A slice per event-loop turn (core/turns.ts): other orgs' requests run between slices.
    const values = await mapInTurns(cacheRequests, ({ value }) => this.caches.decodeValue(value));
    const asked = await mapInTurns(cacheRequests, ({ cacheName, key, ttlSeconds }, i) =>
      settledLater(this.caches.ask(principal, cacheName, { type: 'SetValue', key, value: values[i], ttlSeconds: ttlSeconds ?? 0, ...meta }).then((reply) => ({ cacheName, key, success: reply.ok }))),
    );
    const results = await Promise.all(asked);
    return { complete: results.every((r) => r.success), results };
  }

  @Post('get')
  @HttpCode(200)
  @Route(NativeContracts.batchGet)
  async get(@CurrentPrincipal() principal: Principal, @Body() { getCachedBatch }: BatchGetRequest, @Req() request: FastifyRequest) {
    // First the values (views of stored bytes, no copies) and what their answer will weigh,
    // reserved against the org's share of unread answers; only within MAX_RESPONSE_BYTES and
    // that share are they encoded. Ready caches answer synchronously.
    const budget = new ResponseBudget(this.config.edge.maxResponseBytes, 'the batch answer', request);
    // Up to LOOKUPS_AT_ONCE elements are looked up together: caches that are not loaded are
    // then read in one store call (most of a batch over missing names), and at most that many
    // entities recover at once.
    const values: Array<Uint8Array | undefined> = [];
    for (let from = 0; from < getCachedBatch.length; from += LOOKUPS_AT_ONCE) {
      const window = getCachedBatch.slice(from, from + LOOKUPS_AT_ONCE);
      const found = window.map(({ cacheName, key }) => this.caches.valueNow(principal, cacheName, key));
      // Should the answer budget refuse part-way, the lookups not awaited yet must not fail unhandled.
      for (const f of found) if (f instanceof Promise) f.catch(() => undefined);
      for (let i = 0; i < window.length; i++) {
        const value = found[i] instanceof Promise ? await found[i] : (found[i] as Uint8Array | undefined);
        budget.charge(ELEMENT_ENVELOPE_BYTES + jsonStringBytes(window[i].cacheName) + jsonStringBytes(window[i].key) + (value === undefined ? 0 : base64Length(value.byteLength)));
        values.push(value);
      }
    }
    // A small answer is built whole (a stream costs more than it saves below this size).
    if (budget.measured < STREAMED_ANSWER_BYTES) return { complete: true, results: getCachedBatch.map(({ cacheName, key }, i) => batchElement(cacheName, key, values[i])) };
    return new StreamableFile(Readable.from(batchAnswer(getCachedBatch, values), { objectMode: false, highWaterMark: STREAM_HIGH_WATER_BYTES }), { type: 'application/json; charset=utf-8' });
  }

  @Delete()
  @HttpCode(200)
  @Route(NativeContracts.batchDelete)
  async delete(@CurrentPrincipal() principal: Principal, @Body() { getCachedBatch }: BatchGetRequest, @Req() request: FastifyRequest) {
    const meta = commandMeta(principal, request);
    const asked = await mapInTurns(getCachedBatch, ({ cacheName, key }) =>
      settledLater(this.caches.ask(principal, cacheName, { type: 'DeleteKey', key, ...meta }).then((reply) => ({ cacheName, key, success: reply.ok }))),
    );
    const cacheDeleteResponses = await Promise.all(asked);
    return { success: cacheDeleteResponses.every((r) => r.success), cacheDeleteResponses };
  }
}
