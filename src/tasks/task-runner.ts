import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { JournalConfig } from '../config/journal';
import type { TasksConfig } from '../config/tasks';
import { Clock } from '../config/clock';
import { exportPath, removePartialExports } from './export-files';
import { BACKUP_WORK_BYTES, TASK_WORK_EVENTS, TaskActions } from './task-actions';
import { TaskEvent, nextTaskState } from './task.machine';
import { TaskRecord, TaskRequest, TaskStore } from './task.store';

/** Reason recorded for a task that was running when the process stopped. */
export const INTERRUPTED_REASON = 'the process stopped while the task was running; submit it again';

/** Reason recorded for a pending task that is over its org's limit at a start. */
export const OVER_LIMIT_REASON = "more tasks of the organisation were pending than MAX_PENDING_TASKS_PER_ORG at the start; submit it again";

/** Reason recorded for a pending task whose work is over its org's budget at a start. */
export const OVER_WORK_REASON = "the organisation's pending tasks weighed more than MAX_PENDING_TASK_WORK_PER_ORG at the start; submit it again";

const workOf = (task: TaskRecord): number => task.work ?? 1;

/** An org has MAX_PENDING_TASKS_PER_ORG tasks waiting or running. */
export class TooManyTasksError extends Error {
  readonly code = 'TOO_MANY_TASKS';
}

/** How often finished tasks are looked at for pruning, at most. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Runs background tasks: one FIFO queue per cache (tasks of a cache run one after another
 * in submission order), caches side by side. Every state change is persisted before the
 * next step, so a task id answers after a restart: pending tasks are resumed, a task that
 * was STARTED when the process died is marked FAILURE with a reason. On a shared store
 * (several nodes) a node runs the tasks submitted to it, and resumes only those.
 */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('Tasks');
  private readonly queues = new Map<string, TaskRecord[]>();
  private readonly running = new Map<string, Promise<void>>();
  private counter = 0;
  private accepting = false;
  private stopping = false;
  /** Tasks waiting or running, by org (MAX_PENDING_TASKS_PER_ORG). */
  private readonly unfinished = new Map<string, number>();
  /** Their work, by org (MAX_PENDING_TASK_WORK_PER_ORG). */
  private readonly unfinishedWork = new Map<string, number>();
  private pruner: NodeJS.Timeout | undefined;
  private pruning: Promise<void> | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly actions: TaskActions,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: TasksConfig & JournalConfig,
  ) {}

  /**
   * Loads the stored tasks: fails interrupted ones (a task is started at most once), queues
   * pending ones again up to each org's limit and fails the rest, prunes old ones.
   */
  async start(): Promise<void> {
    // Exports cut short by a crash are no exports: their files go before anything runs or counts them.
    const partial = await removePartialExports(this.config.dataDir);
    if (partial > 0) this.logger.warn(`removed ${partial} export files left incomplete by a stop part-way`);
    const pending: TaskRecord[] = [];
    for await (const task of this.store.all((key, error) => this.logger.error(`task record ${JSON.stringify(key)} is unreadable (${error.message}); skipped`))) {
      if (!this.store.runsHere(task)) continue; // another node's: it resumes its own
      this.counter = Math.max(this.counter, task.n);
      if (task.state === 'STARTED') {
        // An export file an older build wrote under its final name while it ran is as incomplete.
        if (task.action === 'export') await rm(join(this.config.dataDir, exportPath({ org: task.org, name: task.cacheName }, task.id).file), { force: true });
        await this.change(task, { type: 'FAIL' }, { reason: INTERRUPTED_REASON, finishedAt: this.clock.now() });
      }
      else if (task.state === 'PENDING') pending.push(task);
    }
    // Decide every pending task before any runs: a running task's end must not free room mid-way.
    const resume: TaskRecord[] = [];
    for (const task of pending.sort((a, b) => a.n - b.n)) {
      if ((task.attempts ?? 0) > 0) {
        await this.change(task, { type: 'FAIL' }, { reason: INTERRUPTED_REASON, finishedAt: this.clock.now() });
      } else if ((this.unfinished.get(task.org) ?? 0) >= this.config.maxPendingTasksPerOrg) {
        await this.change(task, { type: 'FAIL' }, { reason: OVER_LIMIT_REASON, finishedAt: this.clock.now() });
      } else if (this.overWork(task.org, workOf(task))) {
        await this.change(task, { type: 'FAIL' }, { reason: OVER_WORK_REASON, finishedAt: this.clock.now() });
      } else {
        this.count(task.org, 1, workOf(task));
        resume.push(task);
      }
    }
    this.accepting = true;
    resume.forEach((task) => this.enqueue(task));
    const resumed = resume.length;
    if (resumed > 0) this.logger.log(`resumed ${resumed} pending tasks`);
    const every = Math.max(1000, Math.min(this.config.taskRetentionMs / 2, PRUNE_EVERY_MS));
    this.pruner = setInterval(() => void this.prune(), every);
    this.pruner.unref();
    await this.prune();
  }

  /**
   * Deletes the records of tasks that finished more than TASK_RETENTION_SECONDS ago, and
   * their export files. One pass at a time.
   */
  prune(): Promise<void> {
    this.pruning ??= this.pruneOnce()
      .catch((error) => this.logger.warn(`pruning old tasks failed: ${(error as Error).message}`))
      .finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  private async pruneOnce(): Promise<void> {
    const before = this.clock.now() - this.config.taskRetentionMs;
    const old: TaskRecord[] = [];
    for await (const task of this.store.all()) {
      if (!this.store.runsHere(task)) continue; // its export file is on the node that ran it
      if ((task.state === 'SUCCESS' || task.state === 'FAILURE') && (task.finishedAt ?? task.createdAt) <= before) old.push(task);
    }
    for (const task of old) {
      const file = task.result?.file;
      // Only a file inside DATA_DIR/exports: a record is data, never trusted as a path.
      if (typeof file === 'string' && normalize(file).startsWith(`exports${sep}`) && !normalize(file).includes('..')) {
        await rm(join(this.config.dataDir, file), { force: true });
      }
      await this.store.delete(task.id);
    }
    if (old.length > 0) this.logger.log(`pruned ${old.length} finished tasks older than the retention`);
  }

  /** False before the start and once shutdown began. */
  get isAccepting(): boolean {
    return this.accepting;
  }

  async submit(request: TaskRequest): Promise<TaskRecord> {
    if (!this.accepting) throw new Error('the task runner is not accepting tasks');
    const work = await this.actions.weighRequest(request);
    if ((this.unfinished.get(request.org) ?? 0) >= this.config.maxPendingTasksPerOrg) {
      throw new TooManyTasksError(`the organisation has ${this.config.maxPendingTasksPerOrg} tasks waiting or running (MAX_PENDING_TASKS_PER_ORG); try again once some have finished`);
    }
    if (this.overWork(request.org, work)) {
      throw new TooManyTasksError(
        `the organisation's tasks waiting or running weigh ${this.unfinishedWork.get(request.org) ?? 0} and this one ${work} (${request.action === 'backup' ? `1 + journal bytes / ${BACKUP_WORK_BYTES}` : `1 + events of the cache / ${TASK_WORK_EVENTS}`}); ` +
          `MAX_PENDING_TASK_WORK_PER_ORG is ${this.config.maxPendingTaskWorkPerOrg}; try again once some have finished`,
      );
    }
    const task: TaskRecord = { id: randomUUID(), n: ++this.counter, ...request, work, state: 'PENDING', createdAt: this.clock.now(), ...(this.store.node !== undefined ? { node: this.store.node } : {}) };
    this.count(task.org, 1, work); // counted before the write, so concurrent submits cannot pass the limit
    try {
      await this.store.put(task);
    } catch (error) {
      this.count(task.org, -1, -work);
      throw error;
    }
    this.enqueue(task);
    return task;
  }

  private count(org: string, delta: number, work: number): void {
    const n = (this.unfinished.get(org) ?? 0) + delta;
    if (n > 0) this.unfinished.set(org, n);
    else this.unfinished.delete(org);
    const w = (this.unfinishedWork.get(org) ?? 0) + work;
    if (n > 0 && w > 0) this.unfinishedWork.set(org, w);
    else this.unfinishedWork.delete(org);
  }

  /**
   * Whether `work` more would pass the org's MAX_PENDING_TASK_WORK_PER_ORG. A task heavier
   * than the whole budget is admitted when the org has nothing else waiting or running (a big
   * cache can always be exported, one task at a time).
   */
  private overWork(org: string, work: number): boolean {
    const pending = this.unfinishedWork.get(org) ?? 0;
    return pending > 0 && pending + work > this.config.maxPendingTaskWorkPerOrg;
  }

  get(id: string): Promise<TaskRecord | undefined> {
    return this.store.get(id);
  }

  /**
   * The newest `limit` stored tasks that `visible` accepts (newest first: by submission time,
   * then submission order), and whether older ones were left out. It reads every stored
   * record: they are the tasks of the last TASK_RETENTION_SECONDS, pruned after that.
   */
  async list(visible: (task: TaskRecord) => boolean, limit: number): Promise<{ tasks: TaskRecord[]; more: boolean }> {
    const newer = (a: TaskRecord, b: TaskRecord) => b.createdAt - a.createdAt || b.n - a.n;
    const kept: TaskRecord[] = [];
    let more = false;
    for await (const task of this.store.all()) {
      if (!visible(task)) continue;
      if (kept.length === limit) {
        more = true;
        if (newer(task, kept[limit - 1]) >= 0) continue; // older than every kept one
        kept.pop();
      }
      // Only `limit` are held: an insertion into a short sorted list.
      let at = kept.length;
      while (at > 0 && newer(task, kept[at - 1]) < 0) at--;
      kept.splice(at, 0, task);
    }
    return { tasks: kept, more };
  }

  /** Whether backup tasks can run here (the embedded LevelDB journal only). */
  get canBackup(): boolean {
    return this.actions.canBackup;
  }

  /** Stops taking tasks and waits for the running ones; queued ones stay PENDING for the next start. */
  async stop(): Promise<void> {
    this.accepting = false;
    this.stopping = true;
    if (this.pruner) clearInterval(this.pruner);
    await this.pruning;
    await Promise.all(this.running.values());
  }

  private enqueue(task: TaskRecord): void {
    const lane = JSON.stringify([task.org, task.cacheName]); // a tuple, never a concatenation
    const queue = this.queues.get(lane);
    if (queue !== undefined) {
      queue.push(task);
      return;
    }
    this.queues.set(lane, [task]);
    const run = this.drain(lane).finally(() => this.running.delete(lane));
    this.running.set(lane, run);
  }

  private async drain(lane: string): Promise<void> {
    const queue = this.queues.get(lane)!;
    while (queue.length > 0 && !this.stopping) {
      await this.execute(queue[0]);
      queue.shift();
    }
    this.queues.delete(lane);
  }

  /**
   * Runs one task. STARTED (with its attempt count) is on disk before the action runs, so a
   * task that takes the process down is failed at the next start, never run again. Every
   * error of the action ends the task FAILURE with a reason a client may read.
   */
  private async execute(pending: TaskRecord): Promise<void> {
    let task = pending;
    try {
      task = await this.change(task, { type: 'START' }, { startedAt: this.clock.now(), attempts: (task.attempts ?? 0) + 1 });
      const result = await this.actions.run(task);
      await this.change(task, { type: 'SUCCEED' }, { result, finishedAt: this.clock.now() });
    } catch (error) {
      this.logger.warn(`task ${task.id} (${task.action} of ${JSON.stringify(task.cacheName)}) failed: ${(error as Error)?.message ?? String(error)}`);
      this.store.report(error); // its reads (journal, snapshots) fail on broken storage too
      const reason = this.clientReason(error);
      await this.recordFailure(task, reason);
    } finally {
      this.count(task.org, -1, -workOf(task));
    }
  }

  /**
   * Marks the task FAILURE. When storage is failing too (a full disk fails the task and its
   * record alike), tries again once the storage has been reopened, a few times.
   */
  private async recordFailure(task: TaskRecord, reason: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.change(task, { type: 'FAIL' }, { reason, finishedAt: this.clock.now() });
        return;
      } catch (error) {
        if (attempt >= 3 || this.stopping) {
          this.logger.error(`task ${task.id} could not be marked FAILURE: ${(error as Error).message}`);
          return;
        }
        await this.store.whenWritable();
      }
    }
  }

  /** A failure's reason without the server's file paths (the log has the full message). */
  private clientReason(error: unknown): string {
    const e = error as NodeJS.ErrnoException | undefined;
    if (e && typeof e.code === 'string' && (e.path !== undefined || e.syscall !== undefined)) {
      return `${e.code}: the file system refused the task's ${e.syscall ?? 'write'}`;
    }
    const message = e?.message ?? String(error);
    return message.split(this.config.dataDir).join('DATA_DIR');
  }

  private async change(task: TaskRecord, event: TaskEvent, fields: Partial<TaskRecord>): Promise<TaskRecord> {
    const next: TaskRecord = { ...task, ...fields, state: nextTaskState(task.state, event) };
    await this.store.put(next);
    return next;
  }
}
