import { ReadModelStore, TASKS_SPACE } from '../journal/read-model-store';
import { TaskState } from './task.machine';

export const TASK_ACTIONS = ['snapshot', 'compact', 'rebuild', 'restore', 'export'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export interface TaskParams {
  /** restore: the sequence number to go back to. */
  readonly at?: number;
  /** restore: the time (ms) to go back to. */
  readonly asOf?: number;
  /** compact: a retention that overrides JOURNAL_RETENTION for this run. */
  readonly retention?: string;
}

/** What a client asks for. */
export interface TaskRequest {
  readonly org: string;
  readonly cacheName: string;
  readonly action: TaskAction;
  readonly params: TaskParams;
  readonly by: string;
  readonly device: string | null;
  /** The submitter's service level: a restore is charged to the org quota of that level. */
  readonly serviceLevel?: string;
}

export interface TaskRecord extends TaskRequest {
  readonly id: string;
  /** Submission order (process-wide, persisted): tasks of one cache run in this order. */
  readonly n: number;
  readonly state: TaskState;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** Why a task failed. */
  readonly reason?: string;
  readonly result?: Record<string, unknown>;
  /** How many times the task was started (persisted before it runs): a task is started at most once. */
  readonly attempts?: number;
}

/** Task records in the `tasks` key space, by task id (small JSON documents, off the hot path). */
export class TaskStore {
  constructor(private readonly store: ReadModelStore) {}

  async get(id: string): Promise<TaskRecord | undefined> {
    const value = await this.store.get(TASKS_SPACE, Buffer.from(id, 'utf8'));
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value.toString('utf8')) as TaskRecord;
    } catch {
      return undefined; // unreadable (reported at start): as good as unknown
    }
  }

  async put(record: TaskRecord): Promise<void> {
    await this.store.write([{ type: 'put', space: TASKS_SPACE, key: Buffer.from(record.id, 'utf8'), value: Buffer.from(JSON.stringify(record), 'utf8') }], { sync: true });
  }

  /** A task's storage operation failed: see `Journal.report`. */
  report(error: unknown): void {
    this.store.report(error);
  }

  /** Resolves once the storage takes writes again (after a failed write). */
  whenWritable(): Promise<void> {
    return this.store.whenWritable();
  }

  async delete(id: string): Promise<void> {
    await this.store.write([{ type: 'del', space: TASKS_SPACE, key: Buffer.from(id, 'utf8') }]);
  }

  /** Every stored task; an unreadable record is reported through `onBad` and skipped. */
  async *all(onBad: (key: string, error: Error) => void = () => undefined): AsyncGenerator<TaskRecord> {
    for await (const [key, value] of this.store.entries(TASKS_SPACE)) {
      let record: TaskRecord;
      try {
        record = JSON.parse(value.toString('utf8')) as TaskRecord;
      } catch (error) {
        onBad(key.toString('utf8'), error as Error);
        continue;
      }
      yield record;
    }
  }
}
