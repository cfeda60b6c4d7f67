import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SharedBucket } from '../journal/journal-backend';
import { TaskRecord, TaskStore, decodeTaskRecord, readableTaskRecord } from './task.store';

/** How long a task waits before writing its record again after the bucket refused a write. */
const RETRY_WRITE_MS = 1000;

/**
 * This node's name on the task records it runs: kept in `DATA_DIR/node-id`, so a node that
 * restarts on its data directory resumes (or fails) its own tasks, and never another node's.
 */
export function nodeIdIn(dataDir: string): string {
  const file = join(dataDir, 'node-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9-]{1,64}$/.test(id)) return id;
  } catch {
    // first start on this data directory
  }
  const id = randomUUID();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}

/**
 * Task records in a bucket every node of a shared journal reads (NATS: the KV bucket
 * `<stream>-tasks`): a task id answers on any node. The node that took a task runs it, and
 * only that node resumes, fails or prunes it (`runsHere`): its export file is in its
 * DATA_DIR, and no two nodes may start one task.
 */
export class SharedTaskStore extends TaskStore {
  readonly shared = true;

  constructor(
    private readonly bucket: SharedBucket,
    readonly node: string,
  ) {
    super();
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const value = await this.bucket.get(id);
    return value === undefined ? undefined : readableTaskRecord(value);
  }

  async put(record: TaskRecord): Promise<void> {
    await this.bucket.put(record.id, Buffer.from(JSON.stringify(record), 'utf8'));
  }

  async delete(id: string): Promise<void> {
    await this.bucket.delete(id);
  }

  async *all(onBad: (key: string, error: Error) => void = () => undefined): AsyncGenerator<TaskRecord> {
    const keys: string[] = [];
    for await (const key of this.bucket.keys()) keys.push(key);
    for (const key of keys) {
      const value = await this.bucket.get(key);
      if (value === undefined) continue; // deleted since the listing
      let record: TaskRecord;
      try {
        record = decodeTaskRecord(value);
      } catch (error) {
        onBad(key, error as Error);
        continue;
      }
      yield record;
    }
  }

  /** The bucket's own client reconnects: nothing to reopen here. */
  report(): void {}

  whenWritable(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, RETRY_WRITE_MS));
  }
}
