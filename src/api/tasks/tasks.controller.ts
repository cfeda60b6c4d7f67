import { createHash } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { parseRetention } from '../../config/config';
import { Journal } from '../../journal/journal';
import { lastEvent } from '../../journal/history';
import { TaskRunner, TooManyTasksError } from '../../tasks/task-runner';
import { TaskRecord, TaskRequest } from '../../tasks/task.store';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { HistoryService } from '../history/history.service';
import { etagOf, matchesIfNoneMatch, parsePoint } from '../history/point-in-time';
import { parseInput } from '../validation';
import { RefreshRequestDto, TaskStateQueryDto } from './tasks.dto';

const taskEtag = (task: TaskRecord): string => `"task-${task.n}-${task.state}"`;

function taskBody(task: TaskRecord) {
  return {
    task_id: task.id,
    task_state: task.state,
    action: task.action,
    resource_title: task.cacheName,
    created_at: new Date(task.createdAt).toISOString(),
    started_at: task.startedAt !== undefined ? new Date(task.startedAt).toISOString() : null,
    finished_at: task.finishedAt !== undefined ? new Date(task.finishedAt).toISOString() : null,
    ...(task.reason !== undefined ? { reason: task.reason } : {}),
    ...(task.result !== undefined ? { result: task.result } : {}),
  };
}

/** Sets the ETag; a matching `If-None-Match` is answered 304 (thrown, so the status is not overwritten). */
function conditional(request: FastifyRequest, reply: FastifyReply, etag: string): void {
  void reply.header('etag', etag);
  if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) throw new ApiError(304, 'NOT_MODIFIED', 'not modified');
}

/** The task API (after the 004 document): caches of the org, background tasks and their states. */
@Controller('api/v1/cache')
@UseGuards(BearerAuthGuard)
export class TasksController {
  constructor(
    private readonly caches: CacheService,
    private readonly history: HistoryService,
    private readonly journal: Journal,
    private readonly tasks: TaskRunner,
  ) {}

  /** One row per live cache of the caller's org: who wrote last, from which device, when, version. */
  @Get()
  async list(@CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const rows = [];
    for (const { cacheName } of await this.caches.cacheNames(principal)) {
      const last = await lastEvent(this.journal, { org: principal.org, name: cacheName });
      if (last === undefined) continue;
      rows.push({
        resource_title: cacheName,
        user: last.event.by,
        device: last.event.device,
        sync_datetime: new Date(last.event.at).toISOString(),
        version: last.seq,
        etag: etagOf(last.seq),
      });
    }
    const digest = createHash('sha256').update(JSON.stringify(rows.map((r) => [r.resource_title, r.version]))).digest('base64url').slice(0, 27);
    conditional(request, reply, `"list-${digest}"`);
    return rows;
  }

  @Post('refresh')
  @HttpCode(200)
  async refresh(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const input = parseInput(RefreshRequestDto, body);
    const cacheName = input.resource_title;
    if ((await this.history.currentSeq({ org: principal.org, name: cacheName })) === 0) {
      throw new ApiError(400, 'CACHE_NOT_FOUND', 'cache does not exist');
    }
    if (input.retention !== undefined && parseRetention(input.retention) === undefined) {
      throw new ApiError(400, 'INVALID_REQUEST', 'retention: must be "all", "days:N" or "snapshots:K"');
    }
    const asOf = input.asOf !== undefined ? parsePoint({ asOf: input.asOf }) : undefined;
    const { by, device } = commandMeta(principal, request);
    if (!this.tasks.isAccepting) throw new ApiError(503, 'TASKS_UNAVAILABLE', 'the service is starting or stopping; try again');
    const submitted: TaskRequest = {
      org: principal.org,
      cacheName,
      action: input.action,
      params: {
        ...(input.at !== undefined ? { at: input.at } : {}),
        ...(asOf?.kind === 'time' ? { asOf: asOf.time } : {}),
        ...(input.retention !== undefined ? { retention: input.retention } : {}),
      },
      by,
      device,
      serviceLevel: principal.serviceLevel,
    };
    const task = await this.tasks.submit(submitted).catch((error) => {
      throw error instanceof TooManyTasksError ? new ApiError(429, error.code, error.message) : error;
    });
    void reply.header('etag', taskEtag(task));
    return { task_id: task.id, task_state: task.state };
  }

  @Get('state')
  async state(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { task_id } = parseInput(TaskStateQueryDto, query ?? {});
    const task = await this.tasks.get(task_id);
    if (task === undefined || task.org !== principal.org) throw new ApiError(404, 'TASK_NOT_FOUND', 'no such task');
    conditional(request, reply, taskEtag(task));
    return taskBody(task);
  }
}
