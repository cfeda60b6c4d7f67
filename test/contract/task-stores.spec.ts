import { NatsBackend } from '../../src/journal/nats/nats-backend';
import { Storage } from '../../src/journal/leveldb/storage';
import { LevelDbReadModels } from '../../src/journal/leveldb/leveldb-read-models';
import { SharedTaskStore, nodeIdIn } from '../../src/tasks/shared-task-store';
import { LocalTaskStore, TaskRecord, TaskStore } from '../../src/tasks/task.store';
import { NatsServer, startSingleNats } from '../support/nats-server';
import { tempDir } from '../support/temp-dir';

const record = (id: string, fields: Partial<TaskRecord> = {}): TaskRecord => ({
  id,
  n: 1,
  org: 'acme',
  cacheName: 'c',
  action: 'snapshot',
  params: {},
  by: 't',
  device: null,
  state: 'PENDING',
  createdAt: 1,
  ...fields,
});

async function all(store: TaskStore): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for await (const task of store.all()) out.push(task);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** One contract for every place task records live: this process's LevelDB, or a bucket every node reads. */
function taskStoreContract(name: string, open: () => Promise<{ store: TaskStore; close(): Promise<void> }>): void {
  describe(`task store contract: ${name}`, () => {
    let opened: Awaited<ReturnType<typeof open>>;
    beforeEach(async () => (opened = await open()));
    afterEach(() => opened.close());

    it('keeps, replaces, lists and deletes records by id', async () => {
      const { store } = opened;
      expect(await store.get('a')).toBeUndefined();
      await store.put(record('a'));
      await store.put(record('b', { state: 'STARTED', attempts: 1 }));
      await store.put(record('a', { state: 'SUCCESS', result: { seq: 3 } }));
      expect(await store.get('a')).toEqual(record('a', { state: 'SUCCESS', result: { seq: 3 } }));
      expect((await all(store)).map((t) => [t.id, t.state])).toEqual([
        ['a', 'SUCCESS'],
        ['b', 'STARTED'],
      ]);
      await store.delete('a');
      expect(await store.get('a')).toBeUndefined();
      expect((await all(store)).map((t) => t.id)).toEqual(['b']);
    });

    it('runs here what this process took: every record on its own store, only its own node\'s on a shared one', async () => {
      const { store } = opened;
      expect(store.runsHere(record('mine', store.node !== undefined ? { node: store.node } : {}))).toBe(true);
      expect(store.runsHere(record('theirs', { node: 'another-node' }))).toBe(!store.shared);
    });
  });
}

taskStoreContract('LevelDB (this process)', async () => {
  const dir = tempDir();
  const storage = new Storage(dir.path);
  await storage.open();
  return {
    store: new LocalTaskStore(new LevelDbReadModels(storage)),
    close: async () => {
      await storage.close();
      dir.cleanup();
    },
  };
});

let server: NatsServer;
let streams = 0;
beforeAll(async () => (server = await startSingleNats()));
afterAll(() => server.stop());

taskStoreContract('NATS KV bucket (every node)', async () => {
  const dir = tempDir();
  const backend = new NatsBackend({ servers: [server.url], replicas: 1, stream: `tasks${++streams}`, timeoutMs: 5000, dataDir: dir.path });
  await backend.open();
  return {
    store: new SharedTaskStore(backend.sharedBucket, nodeIdIn(dir.path)),
    close: async () => {
      await backend.close();
      dir.cleanup();
    },
  };
});

describe('node id', () => {
  it('is made once per data directory and kept', () => {
    const dir = tempDir();
    const first = nodeIdIn(dir.path);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(nodeIdIn(dir.path)).toBe(first);
    const other = tempDir();
    expect(nodeIdIn(other.path)).not.toBe(first);
    dir.cleanup();
    other.cleanup();
  });
});
