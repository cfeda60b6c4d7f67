import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { ApiError } from '../errors/api-error';
import { CacheNameParams } from '../contract/params';
import { Route, RouteContract, error, json, named } from '../contract/route-contract';
import { ResponseBudget } from '../edge/response-budget';
import { EventStreamService } from './event-stream.service';
import { HistoryService } from './history.service';

const seqField = z.string().regex(/^\d{1,15}$/, 'must be a sequence number >= 1').transform(Number);

const EventsQueryDto = z.object({
  from: seqField.optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number from 1 to 1000')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .optional(),
});

const StreamQueryDto = z.object({ from: seqField.optional() });

const HistoryEvent = named(
  'HistoryEvent',
  z
    .object({ seq: z.number().int(), offset: z.number().int().nullable(), type: z.string(), time: z.string().meta({ description: 'ISO time' }), by: z.string(), device: z.string() })
    .catchall(z.unknown())
    .meta({ description: 'one journaled event: its sequence number, type, time, author and device, and its fields' }),
);
const EventsPage = named('EventsPage', z.object({ cacheName: z.string(), highestSeq: z.number().int(), events: z.array(HistoryEvent), next: z.number().int(), hasMore: z.boolean() }));
const neverWritten = error('the cache has no events: it never existed (CACHE_NOT_FOUND)', 'CACHE_NOT_FOUND');

export const HistoryContracts = {
  events: {
    family: 'history',
    summary: 'Events of a cache, paged (who changed what, when, from which device)',
    params: CacheNameParams,
    query: EventsQueryDto,
    responses: { 200: json(EventsPage, 'a page of events'), 400: neverWritten },
  },
  stream: {
    family: 'history',
    summary: 'Events of a cache as Server-Sent Events: from `from` (or after `Last-Event-ID`), then live',
    params: CacheNameParams,
    query: StreamQueryDto,
    responses: {
      200: { description: 'an event stream; each event has `id: <seq>` and the event as JSON data', contentType: 'text/event-stream', schema: z.string() },
      429: error('the token or the org has SSE_MAX_CLIENTS_PER_TOKEN / SSE_MAX_CLIENTS_PER_ORG streams open', 'TOO_MANY_STREAMS'),
    },
  },
} satisfies Record<string, RouteContract>;

/** The audit log of a cache: paged, and as a live Server-Sent-Events stream. */
@Controller('cacheName')
export class HistoryController {
  constructor(
    private readonly history: HistoryService,
    private readonly streams: EventStreamService,
  ) {}

  @Get(':cacheName/events')
  @Route(HistoryContracts.events)
  async events(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Query() { from, limit }: z.infer<typeof EventsQueryDto>,
    @Req() request: FastifyRequest,
  ) {
    const ref = { org: principal.org, name: cacheName };
    const highestSeq = await this.history.currentSeq(ref);
    if (highestSeq === 0) throw ApiError.of('CACHE_NOT_FOUND', 'cache does not exist');
    // The page is bounded by EVENTS_PAGE_MAX_BYTES already; its bytes are reserved against the org's share as they are listed.
    const budget = new ResponseBudget(Infinity, 'the events page', request);
    const page = await this.history.page(ref, from ?? 1, limit ?? 100, (bytes) => budget.charge(bytes));
    return { cacheName, highestSeq, ...page };
  }

  @Get(':cacheName/events/stream')
  @Route(HistoryContracts.stream)
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') cacheName: string,
    @Query() { from }: z.infer<typeof StreamQueryDto>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const lastEventId = request.headers['last-event-id'];
    let start = from ?? 1;
    if (from === undefined && typeof lastEventId === 'string' && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId)) throw ApiError.of('INVALID_REQUEST', 'Last-Event-ID: must be a sequence number');
      start = Number(lastEventId) + 1;
    }
    await this.streams.open({ org: principal.org, name: cacheName }, start, reply, principal);
  }
}
