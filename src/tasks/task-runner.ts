import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../config/clock';
import { TaskActions } from './task-actions';
import { TaskEvent, nextTaskState } from './task.machine';
import { TaskRecord, TaskRequest, TaskStore } from './task.store';

/** Reason recorded for a task that was running when the process stopped. */
export const INTERRUPTED_REASON = 'the process stopped while the task was running; submit it again';

/**
 * Runs background tasks: one FIFO queue per cache (tasks of a cache run one after another
 * in submission order), caches side by side. Every state change is persisted before the
 * next step, so a task id answers after a restart: pending tasks are resumed, a task that
 * was STARTED when the process died is marked FAILURE with a reason.
 */
@Injectable()
export class TaskRunner {
  private readonly logger = new Logger('Tasks');
  private readonly queues = new Map<string, TaskRecord[]>();
  private readonly running = new Map<string, Promise<void>>();
  private counter = 0;
  private accepting = false;
  private stopping = false;

  constructor(
    private readonly store: TaskStore,
    private readonly actions: TaskActions,
    private readonly clock: Clock,
  ) {}

  /** Loads the stored tasks: fails interrupted ones, queues pending ones again. */
  async start(): Promise<void> {
    const pending: TaskRecord[] = [];
    for await (const task of this.store.all((key, error) => this.logger.error(`task record ${JSON.stringify(key)} is unreadable (${error.message}); skipped`))) {
      this.counter = Math.max(this.counter, task.n);
      if (task.state === 'STARTED') await this.change(task, { type: 'FAIL' }, { reason: INTERRUPTED_REASON, finishedAt: this.clock.now() });
      else if (task.state === 'PENDING') pending.push(task);
    }
    this.accepting = true;
    pending.sort((a, b) => a.n - b.n).forEach((task) => this.enqueue(task));
    if (pending.length > 0) this.logger.log(`resumed ${pending.length} pending tasks`);
  }

  /** False before the start and once shutdown began. */
  get isAccepting(): boolean {
    return this.accepting;
  }

  async submit(request: TaskRequest): Promise<TaskRecord> {
    if (!this.accepting) throw new Error('the task runner is not accepting tasks');
    const task: TaskRecord = { id: randomUUID(), n: ++this.counter, ...request, state: 'PENDING', createdAt: this.clock.now() };
    await this.store.put(task);
    this.enqueue(task);
    return task;
  }

  get(id: string): Promise<TaskRecord | undefined> {
    return this.store.get(id);
  }

  /** Stops taking tasks and waits for the running ones; queued ones stay PENDING for the next start. */
  async stop(): Promise<void> {
    this.accepting = false;
    this.stopping = true;
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

  private async execute(pending: TaskRecord): Promise<void> {
    let task = pending;
    try {
      task = await this.change(task, { type: 'START' }, { startedAt: this.clock.now() });
      const result = await this.actions.run(task);
      await this.change(task, { type: 'SUCCEED' }, { result, finishedAt: this.clock.now() });
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      this.logger.warn(`task ${task.id} (${task.action} of ${JSON.stringify(task.cacheName)}) failed: ${reason}`);
      await this.change(task, { type: 'FAIL' }, { reason, finishedAt: this.clock.now() }).catch((e) =>
        this.logger.error(`task ${task.id} could not be marked FAILURE: ${(e as Error).message}`),
      );
    }
  }

  private async change(task: TaskRecord, event: TaskEvent, fields: Partial<TaskRecord>): Promise<TaskRecord> {
    const next: TaskRecord = { ...task, ...fields, state: nextTaskState(task.state, event) };
    await this.store.put(next);
    return next;
  }
}
