import { Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { ApiError } from '../errors/api-error';
import { parseInput, pathParam } from '../validation';
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

/** The audit log of a cache: paged, and as a live Server-Sent-Events stream. */
@Controller('cacheName')
@UseGuards(BearerAuthGuard)
export class HistoryController {
  constructor(
    private readonly history: HistoryService,
    private readonly streams: EventStreamService,
  ) {}

  @Get(':cacheName/events')
  async events(@CurrentPrincipal() principal: Principal, @Param('cacheName') rawName: string, @Query() query: unknown) {
    const cacheName = pathParam(rawName, 'cacheName');
    const { from, limit } = parseInput(EventsQueryDto, query ?? {});
    const ref = { org: principal.org, name: cacheName };
    const highestSeq = await this.history.currentSeq(ref);
    if (highestSeq === 0) throw new ApiError(400, 'CACHE_NOT_FOUND', 'cache does not exist');
    const page = await this.history.page(ref, from ?? 1, limit ?? 100);
    return { cacheName, highestSeq, ...page };
  }

  @Get(':cacheName/events/stream')
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Param('cacheName') rawName: string,
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const cacheName = pathParam(rawName, 'cacheName');
    const { from } = parseInput(StreamQueryDto, query ?? {});
    const lastEventId = request.headers['last-event-id'];
    let start = from ?? 1;
    if (from === undefined && typeof lastEventId === 'string' && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId)) throw new ApiError(400, 'INVALID_REQUEST', 'Last-Event-ID: must be a sequence number');
      start = Number(lastEventId) + 1;
    }
    await this.streams.open({ org: principal.org, name: cacheName }, start, reply);
  }
}
