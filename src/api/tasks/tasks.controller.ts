import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { z } from 'zod';
import { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { APP_CONFIG } from '../../config/settings';
import { JournalConfig, parseRetention } from '../../config/journal';
import { Journal } from '../../journal/journal';
import { lastEvent } from '../../journal/history';
import { backupPath, exportPath } from '../../tasks/export-files';
import { TaskRunner, TooManyTasksError } from '../../tasks/task-runner';
import { TaskRecord, TaskRequest } from '../../tasks/task.store';
import { CacheService, commandMeta } from '../cache.service';
import { ApiError } from '../errors/api-error';
import { HistoryService } from '../history/history.service';
import { etagOf, matchesIfNoneMatch, parsePoint } from '../history/point-in-time';
import { Route, RouteContract, empty, error, json, named } from '../contract/route-contract';
import { DEFAULT_TASKS_LISTED, MAX_TASKS_LISTED, RefreshRequestDto, TaskListQueryDto, TaskStateQueryDto } from './tasks.dto';

const TaskState = named('TaskState', z.enum(['PENDING', 'STARTED', 'SUCCESS', 'FAILURE']));
const CacheRow = named('CacheSyncRow', z.object({ resource_title: z.string(), user: z.string(), device: z.string(), sync_datetime: z.string(), version: z.number().int(), etag: z.string() }));
const TaskBody = named('Task', z.object({
  task_id: z.string(),
  task_state: TaskState,
  action: z.string(),
  resource_title: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  reason: z.string().optional(),
  result: z.unknown().optional(),
}));
const TaskList = named('TaskList', z.object({
  tasks: z.array(TaskBody).meta({ description: 'newest first' }),
  more: z.boolean().meta({ description: 'older tasks (of the asked state) were left out by `limit`' }),
}));
const TaskAccepted = named('TaskAccepted', z.object({ task_id: z.string(), task_state: TaskState }));
const etagHeader = { etag: 'changes when the answer changes; `If-None-Match` answers 304' };

export const TasksContracts = {
  list: {
    family: 'tasks',
    summary: 'Live caches of your org: who wrote last, from which device, when, and the version',
    responses: { 200: { ...json(z.array(CacheRow), 'one row per live cache'), headers: etagHeader }, 304: empty('not modified (If-None-Match)') },
  },
  refresh: {
    family: 'tasks',
    summary: "Start a background task on a cache (snapshot, compact, rebuild, restore, export), or a backup of the org's caches (an operator's token: of the whole instance)",
    body: { contentType: 'application/json', schema: RefreshRequestDto, example: { resource_title: 'cache1', action: 'restore', at: 2 } },
    responses: {
      200: { ...json(TaskAccepted, 'accepted'), headers: etagHeader },
      400: error('a cache that does not exist, a bad retention, or a backup where the journal is not LevelDB', 'CACHE_NOT_FOUND', 'INVALID_REQUEST'),
      403: error('a backup of the whole instance (`scope: instance`) without an operator token (claim `operator: true`)', 'FORBIDDEN'),
      429: error("the org's pending tasks are at MAX_PENDING_TASKS_PER_ORG or MAX_PENDING_TASK_WORK_PER_ORG", 'TOO_MANY_TASKS'),
      503: error('the service is starting or stopping; try again', 'TASKS_UNAVAILABLE'),
    },
  },
  state: {
    family: 'tasks',
    summary: "A task's state: PENDING, STARTED, SUCCESS or FAILURE",
    query: TaskStateQueryDto,
    responses: { 200: { ...json(TaskBody, 'the task'), headers: etagHeader }, 304: empty('not modified (If-None-Match)'), 404: error('no such task in your org', 'TASK_NOT_FOUND') },
  },
  tasks: {
    family: 'tasks',
    summary: "Your org's tasks, newest first: those of the last TASK_RETENTION_SECONDS, whoever started them",
    description:
      `At most \`limit\` (1 to ${MAX_TASKS_LISTED}, default ${DEFAULT_TASKS_LISTED}), of one \`state\` when given. An instance backup (\`scope: instance\`) is listed to operator tokens only. ` +
      'The list reads every stored task record of the node (or of the shared store): they are pruned TASK_RETENTION_SECONDS after they finish.',
    query: TaskListQueryDto,
    responses: {
      200: { ...json(TaskList, 'the tasks', { tasks: [{ task_id: '14b1226a-223e-476b-9104-a541eccff85e', task_state: 'SUCCESS', action: 'snapshot', resource_title: 'cache1', created_at: '2026-11-24T06:00:00.000Z', started_at: '2026-11-24T06:00:00.010Z', finished_at: '2026-11-24T06:00:00.020Z', result: { seq: 2, snapshotSeq: 2 } }], more: false }), headers: etagHeader },
      304: empty('not modified (If-None-Match)'),
      400: error('a bad limit or state', 'INVALID_REQUEST'),
    },
  },
  download: {
    family: 'tasks',
    summary: "The file of a succeeded export task of your org: NDJSON, as `cachelog export` writes it (what `cachelog import` reads)",
    query: TaskStateQueryDto,
    responses: {
      200: {
        description: 'the export, one event per line and the trailer line',
        contentType: 'application/x-ndjson',
        schema: z.string().meta({ format: 'binary' }),
        headers: { 'content-disposition': 'attachment; filename="export-<task_id>.ndjson"' },
      },
      400: error('the task is not an export', 'INVALID_REQUEST'),
      404: error('no such task in your org', 'TASK_NOT_FOUND'),
      409: error('the export has not succeeded (yet): EXPORT_NOT_READY', 'EXPORT_NOT_READY'),
      410: error('the file is not on this node: deleted after TASK_RETENTION_SECONDS, or written by another node (JOURNAL=nats): EXPORT_GONE', 'EXPORT_GONE'),
    },
  },
  downloadBackup: {
    family: 'tasks',
    summary: "The file of a succeeded backup task: your org's (an operator's instance backup: operator tokens only), in the format `cachelog restore --in` reads",
    query: TaskStateQueryDto,
    responses: {
      200: {
        description: 'the backup file (binary, checked end to end by its CRC-32)',
        contentType: 'application/octet-stream',
        schema: z.string().meta({ format: 'binary' }),
        headers: { 'content-disposition': 'attachment; filename="cachelog-<task_id>.backup"' },
      },
      400: error('the task is not a backup', 'INVALID_REQUEST'),
      404: error('no such task in your org (an instance backup: no such task, or the token is not an operator\'s)', 'TASK_NOT_FOUND'),
      409: error('the backup has not succeeded (yet): EXPORT_NOT_READY', 'EXPORT_NOT_READY'),
      410: error('the file is not on this node any more (deleted after TASK_RETENTION_SECONDS): EXPORT_GONE', 'EXPORT_GONE'),
    },
  },
} satisfies Record<string, RouteContract>;

/** Who may see a task: its org's tokens; an instance backup, operator tokens only (it holds every org's caches). */
const visibleTo = (task: TaskRecord, principal: Principal): boolean =>
  task.action === 'backup' && task.params.scope === 'instance' ? principal.operator === true : task.org === principal.org;

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
  if (matchesIfNoneMatch(request.headers['if-none-match'], etag)) throw ApiError.of('NOT_MODIFIED', 'not modified');
}

/** The task API (after the 004 document): caches of the org, background tasks and their states. */
@Controller('api/v1/cache')
export class TasksController {
  constructor(
    private readonly caches: CacheService,
    private readonly history: HistoryService,
    private readonly journal: Journal,
    private readonly tasks: TaskRunner,
    @Inject(APP_CONFIG) private readonly config: JournalConfig,
  ) {}

  /** One row per live cache of the caller's org: who wrote last, from which device, when, version. */
  @Get()
  @Route(TasksContracts.list)
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
  @Route(TasksContracts.refresh)
  async refresh(
    @CurrentPrincipal() principal: Principal,
    @Body() input: z.infer<typeof RefreshRequestDto>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (input.action === 'backup') return this.backup(principal, input.scope ?? 'org', request, reply);
    const cacheName = input.resource_title!;
    if ((await this.history.currentSeq({ org: principal.org, name: cacheName })) === 0) {
      throw ApiError.of('CACHE_NOT_FOUND', 'cache does not exist');
    }
    if (input.retention !== undefined && parseRetention(input.retention) === undefined) {
      throw ApiError.of('INVALID_REQUEST', 'retention: must be "all", "days:N" or "snapshots:K"');
    }
    const asOf = input.asOf !== undefined ? parsePoint({ asOf: input.asOf }) : undefined;
    const { by, device } = commandMeta(principal, request);
    if (!this.tasks.isAccepting) throw ApiError.of('TASKS_UNAVAILABLE', 'the service is starting or stopping; try again');
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
      throw error instanceof TooManyTasksError ? ApiError.of('TOO_MANY_TASKS', error.message) : error;
    });
    void reply.header('etag', taskEtag(task));
    return { task_id: task.id, task_state: task.state };
  }

  /** A backup task: of the caller's org's caches, or (an operator's) of the whole instance. */
  private async backup(principal: Principal, scope: 'org' | 'instance', request: FastifyRequest, reply: FastifyReply) {
    if (scope === 'instance' && principal.operator !== true) {
      throw ApiError.of('FORBIDDEN', 'a backup of the whole instance needs an operator token (claim "operator": true); scope "org" backs up your org\'s caches');
    }
    if (!this.tasks.canBackup) throw ApiError.of('INVALID_REQUEST', 'backups are taken of the embedded LevelDB journal only (JOURNAL=leveldb)');
    if (!this.tasks.isAccepting) throw ApiError.of('TASKS_UNAVAILABLE', 'the service is starting or stopping; try again');
    const { by, device } = commandMeta(principal, request);
    const task = await this.tasks
      .submit({ org: principal.org, cacheName: '', action: 'backup', params: { scope }, by, device, serviceLevel: principal.serviceLevel })
      .catch((error) => {
        throw error instanceof TooManyTasksError ? ApiError.of('TOO_MANY_TASKS', error.message) : error;
      });
    void reply.header('etag', taskEtag(task));
    return { task_id: task.id, task_state: task.state };
  }

  @Get('state')
  @Route(TasksContracts.state)
  async state(
    @CurrentPrincipal() principal: Principal,
    @Query() { task_id }: z.infer<typeof TaskStateQueryDto>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const task = await this.tasks.get(task_id);
    if (task === undefined || !visibleTo(task, principal)) throw ApiError.of('TASK_NOT_FOUND', 'no such task');
    conditional(request, reply, taskEtag(task));
    return taskBody(task);
  }

  /** The caller's org's tasks, newest first (an instance backup: to operators only). */
  @Get('tasks')
  @Route(TasksContracts.tasks)
  async tasksList(
    @CurrentPrincipal() principal: Principal,
    @Query() { limit, state }: z.infer<typeof TaskListQueryDto>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const listed = await this.tasks.list((task) => visibleTo(task, principal) && (state === undefined || task.state === state), limit ?? DEFAULT_TASKS_LISTED);
    const digest = createHash('sha256').update(JSON.stringify([listed.more, ...listed.tasks.map((t) => [t.id, t.state])])).digest('base64url').slice(0, 27);
    conditional(request, reply, `"tasks-${digest}"`);
    return { tasks: listed.tasks.map(taskBody), more: listed.more };
  }

  /** The file of an export task of the caller's org, once it succeeded, from the node that wrote it. */
  @Get('export')
  @Route(TasksContracts.download)
  async download(@CurrentPrincipal() principal: Principal, @Query() { task_id }: z.infer<typeof TaskStateQueryDto>): Promise<StreamableFile> {
    const task = await this.tasks.get(task_id);
    if (task === undefined || !visibleTo(task, principal)) throw ApiError.of('TASK_NOT_FOUND', 'no such task');
    if (task.action !== 'export') throw ApiError.of('INVALID_REQUEST', `task ${task.id} is a ${task.action} task, not an export`);
    if (task.state !== 'SUCCESS') throw ApiError.of('EXPORT_NOT_READY', `the export task is ${task.state}; its file can be downloaded once it is SUCCESS`);
    const file = join(this.config.dataDir, exportPath({ org: task.org, name: task.cacheName }, task.id).file);
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) throw ApiError.of('EXPORT_GONE', 'the export file is not on this node: deleted after TASK_RETENTION_SECONDS, or written by another node');
    return new StreamableFile(createReadStream(file), { type: 'application/x-ndjson', length: size, disposition: `attachment; filename="export-${task.id}.ndjson"` });
  }

  /** The file of a backup task, once it succeeded: an org's to its org, the instance's to operators. */
  @Get('backup')
  @Route(TasksContracts.downloadBackup)
  async downloadBackup(@CurrentPrincipal() principal: Principal, @Query() { task_id }: z.infer<typeof TaskStateQueryDto>): Promise<StreamableFile> {
    const task = await this.tasks.get(task_id);
    if (task === undefined || !visibleTo(task, principal)) throw ApiError.of('TASK_NOT_FOUND', `no task ${JSON.stringify(task_id)} in your org`);
    if (task.action !== 'backup') throw ApiError.of('INVALID_REQUEST', `task ${task.id} is a ${task.action} task, not a backup`);
    if (task.state !== 'SUCCESS') throw ApiError.of('EXPORT_NOT_READY', `the backup task is ${task.state}; its file can be downloaded once it is SUCCESS`);
    // The path is computed from the record's org, scope and id, never read from it.
    const file = join(this.config.dataDir, backupPath(task.org, task.params.scope ?? 'org', task.id).file);
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) throw ApiError.of('EXPORT_GONE', 'the backup file is not on this node any more: deleted after TASK_RETENTION_SECONDS');
    return new StreamableFile(createReadStream(file), { type: 'application/octet-stream', length: size, disposition: `attachment; filename="cachelog-${task.id}.backup"` });
  }
}
