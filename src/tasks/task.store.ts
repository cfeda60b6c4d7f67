import { ReadModelStore, TASKS_SPACE } from '../journal/read-model-store';
import { TaskState } from './task.machine';

export const TASK_ACTIONS = ['snapshot', 'compact', 'rebuild', 'restore', 'export', 'backup'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export interface TaskParams {
  /** restore: the sequence number to go back to. */
  readonly at?: number;
  /** restore: the time (ms) to go back to. */
  readonly asOf?: number;
  /** compact: a retention that overrides JOURNAL_RETENTION for this run. */
  readonly retention?: string;
  /** backup: the org's caches (default), or the whole instance (an operator's). */
  readonly scope?: BackupScope;
}

export type BackupScope = 'org' | 'instance';

/** What a client asks for. */
export interface TaskRequest {
  readonly org: string;
  /** The cache the task works on; empty for a backup (the org's or the instance's). */
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
  /** On a shared store: the node that runs the task (it alone resumes, fails or prunes it). */
  readonly node?: string;
  /** What the task weighs against MAX_PENDING_TASK_WORK_PER_ORG, fixed at submission (absent in older records: 1). */
  readonly work?: number;
}

/**
 * Where task records live. Every state change is written before the next step, so a task id
 * answers after a restart and from whichever node holds the records.
 */
export abstract class TaskStore {
  /** Records every node reads (a shared journal's bucket), not only this process. */
  abstract readonly shared: boolean;
  /** This process's name on the records it runs (`node` of a record), when the store is shared. */
  abstract readonly node: string | undefined;
  abstract get(id: string): Promise<TaskRecord | undefined>;
  abstract put(record: TaskRecord): Promise<void>;
  abstract delete(id: string): Promise<void>;
  /** Every stored task; an unreadable record is reported through `onBad` and skipped. */
  abstract all(onBad?: (key: string, error: Error) => void): AsyncGenerator<TaskRecord>;
  /** A task's storage operation failed: see `Journal.report`. */
  abstract report(error: unknown): void;
  /** Resolves once the storage takes writes again (after a failed write). */
  abstract whenWritable(): Promise<void>;

  /** Whether this process runs (resumes, fails, prunes) the task: on a shared store, only its own. */
  runsHere(task: TaskRecord): boolean {
    return !this.shared || task.node === this.node;
  }
}

/** A stored record; throws on one that is not JSON. */
export function decodeTaskRecord(bytes: Uint8Array): TaskRecord {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as TaskRecord;
}

/** A stored record, or undefined when it is unreadable (as good as unknown; reported at start). */
export function readableTaskRecord(bytes: Uint8Array): TaskRecord | undefined {
  try {
    return decodeTaskRecord(bytes);
  } catch {
    return undefined;
  }
}

/** Task records in the `tasks` key space of this process's read-model store, by task id. */
export class LocalTaskStore extends TaskStore {
  readonly shared = false;
  readonly node = undefined;

  constructor(private readonly store: ReadModelStore) {
    super();
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const value = await this.store.get(TASKS_SPACE, Buffer.from(id, 'utf8'));
    return value === undefined ? undefined : readableTaskRecord(value);
  }

  async put(record: TaskRecord): Promise<void> {
    await this.store.write([{ type: 'put', space: TASKS_SPACE, key: Buffer.from(record.id, 'utf8'), value: Buffer.from(JSON.stringify(record), 'utf8') }], { sync: true });
  }

  report(error: unknown): void {
    this.store.report(error);
  }

  whenWritable(): Promise<void> {
    return this.store.whenWritable();
  }

  async delete(id: string): Promise<void> {
    await this.store.write([{ type: 'del', space: TASKS_SPACE, key: Buffer.from(id, 'utf8') }]);
  }

  async *all(onBad: (key: string, error: Error) => void = () => undefined): AsyncGenerator<TaskRecord> {
    for await (const [key, value] of this.store.entries(TASKS_SPACE)) {
      let record: TaskRecord;
      try {
        record = decodeTaskRecord(value);
      } catch (error) {
        onBad(key.toString('utf8'), error as Error);
        continue;
      }
      yield record;
    }
  }
}
