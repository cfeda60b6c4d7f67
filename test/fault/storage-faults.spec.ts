import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEntityId, uint64BE } from '../../src/journal/keys';
import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { Storage } from '../../src/journal/leveldb/storage';
import { projectionSpace } from '../../src/journal/read-model-store';
import { ProjectionRunner } from '../../src/projections/projection-runner';
import { HttpResult, TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

const org = 'heal';
const token = tokenFor({ org });

/** One request of some family, what it may answer while storage is down, and once it is back. */
interface Probe {
  readonly name: string;
  readonly family: 'native' | 'ironcache' | 'momento';
  readonly send: (app: TestApp) => Promise<HttpResult>;
  /** The status once storage is back (no restart). */
  readonly healthy: number;
  /** It writes to LevelDB even while every cache read fails (a write failure reports the fault by itself). */
  readonly writes?: true;
}

const native = (path: string, options: { method?: string; body?: unknown } = {}) => (app: TestApp) => http(`${app.url}${path}`, { token, ...options });
const iron = (path: string, options: { method?: string; body?: string } = {}) => (app: TestApp) =>
  http(`${app.url}/1/projects/${org}${path}`, { method: options.method, body: options.body, headers: { authorization: `OAuth ${token}`, ...(options.body ? { 'content-type': 'application/json' } : {}) } });
const momento = (cache: string, query: string, options: { method?: string; body?: Buffer } = {}) => (app: TestApp) =>
  http(`${app.url}/cache/${cache}?${query}`, { method: options.method, body: options.body, headers: { authorization: token } });

/**
 * Reads and writes of every family, each on caches never loaded before the fault (their
 * recovery reads the journal) or on read models, history and task records (which read
 * LevelDB on every request). `seeded` exists on disk from before the fault.
 */
const probes = (taskId: string): Probe[] => [
  { name: 'native write, new cache (fast route)', family: 'native', send: native('/fresh-a/k', { method: 'POST', body: Buffer.from('v') }), healthy: 201 },
  { name: 'native read, new cache (fast route)', family: 'native', send: native('/fresh-b/k'), healthy: 404 },
  { name: 'native read, new cache', family: 'native', send: native('/get/fresh-c/k'), healthy: 200 },
  { name: 'native cache state, new cache', family: 'native', send: native('/cacheName/fresh-d'), healthy: 400 },
  { name: 'native create cache', family: 'native', send: native('/cacheName', { method: 'POST', body: { cacheName: 'fresh-e' } }), healthy: 201 },
  { name: 'native cache list (read model)', family: 'native', send: native('/cacheName/list'), healthy: 200 },
  { name: 'native key listing (read model)', family: 'native', send: native('/cacheName/seeded/keys'), healthy: 200 },
  { name: 'native key listing, new cache', family: 'native', send: native('/cacheName/fresh-f/keys'), healthy: 400 },
  { name: 'native history (journal)', family: 'native', send: native('/cacheName/seeded/events'), healthy: 200 },
  { name: 'native point-in-time read (journal)', family: 'native', send: native('/seeded/k?at=2'), healthy: 200 },
  { name: 'task list', family: 'native', send: native('/api/v1/cache'), healthy: 200 },
  { name: 'task state (task records)', family: 'native', send: native(`/api/v1/cache/state?task_id=${taskId}`), healthy: 200 },
  { name: 'task submission', family: 'native', send: native('/api/v1/cache/refresh', { method: 'POST', body: { resource_title: 'seeded', action: 'export' } }), healthy: 200, writes: true },
  { name: 'IronCache write, new cache', family: 'ironcache', send: iron('/caches/fresh-g/items/k', { method: 'PUT', body: '{"value": "v"}' }), healthy: 200 },
  { name: 'IronCache read, new cache', family: 'ironcache', send: iron('/caches/fresh-h/items/k'), healthy: 404 },
  { name: 'IronCache cache info, new cache', family: 'ironcache', send: iron('/caches/fresh-i'), healthy: 404 },
  { name: 'IronCache cache list (read model)', family: 'ironcache', send: iron('/caches'), healthy: 200 },
  { name: 'Momento write, new cache', family: 'momento', send: momento('fresh-j', 'key=k&ttl_seconds=60', { method: 'PUT', body: Buffer.from('v') }), healthy: 404 },
  { name: 'Momento read, new cache', family: 'momento', send: momento('fresh-k', 'key=k'), healthy: 404 },
];

/** A request must answer, whatever the storage does: a hang is a failure too. */
async function answered(app: TestApp, probe: Probe): Promise<HttpResult> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${probe.name}: no answer within 10 s`)), 10_000)));
  try {
    return await Promise.race([probe.send(app), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** While storage is down: the request is served from memory, or refused with a clear 503 and no server path. */
function expectCleanRefusal(app: TestApp, probe: Probe, answer: HttpResult): void {
  const what = `${probe.name} answered ${answer.status} ${answer.text}`;
  if (answer.status < 500) return;
  expect({ what, status: answer.status }).toEqual({ what, status: 503 });
  expect(answer.text).not.toContain(app.dataDir);
  if (probe.family === 'native') expect({ what, code: answer.json().code }).toEqual({ what, code: expect.stringMatching(/^(STORAGE|JOURNAL)_UNAVAILABLE$/) });
  if (probe.family === 'ironcache') expect(answer.json()).toEqual({ msg: expect.stringMatching(/unavailable|could not be/) });
}

describe('a storage fault', () => {
  let app: TestApp;
  afterEach(() => app?.dispose());

  // The first case is the reported one: only reads reach the storage (recoveries of caches
  // never loaded, read models, history, task records), and no write reports the fault.
  // The third: no cache is recovered either, only reads of read models, history and task
  // records meet it, and report it on their way to the client.
  const readModels = ['native cache list (read model)', 'native history (journal)', 'task state (task records)', 'IronCache cache list (read model)'];
  it.each([
    ['that only reads meet', (probe: Probe) => !probe.writes, 'IronCache write, new cache'],
    ['that reads and writes meet', () => true, 'IronCache write, new cache'],
    ['that only reads of read models, history and task records meet', (probe: Probe) => readModels.includes(probe.name), 'native cache list (read model)'],
  ])('%s: 503 in every family, healed once storage is back, then every request answers normally', async (_case, included, healedWhen) => {
    app = await startTestApp({ env: { JOURNAL_REOPEN_MAX_BACKOFF_MS: '200' } });
    expect((await http(`${app.url}/seeded/k`, { method: 'POST', token, body: Buffer.from('before') })).status).toBe(201);
    const submitted = await http(`${app.url}/api/v1/cache/refresh`, { method: 'POST', token, body: { resource_title: 'seeded', action: 'export' } });
    expect(submitted.status).toBe(200);
    // The task's own record writes must not be what reports the fault.
    const taskState = () => http(`${app.url}/api/v1/cache/state?task_id=${submitted.json().task_id}`, { token });
    while ((await taskState()).json().task_state !== 'SUCCESS') await sleep(50);
    const everything = probes(submitted.json().task_id);
    const all = everything.filter(included);

    // The fault: the database handle is gone, and reopening it fails (naming a server file) until storage is back.
    const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
    const open = storage.db.open.bind(storage.db);
    let down = true;
    (storage.db as unknown as { open: unknown }).open = (...args: unknown[]) =>
      down
        ? Promise.reject(Object.assign(new Error(`IO error: ${app.dataDir}/MANIFEST-000004: Input/output error`), { code: 'LEVEL_IO_ERROR' }))
        : (open as (...a: unknown[]) => Promise<void>)(...args);
    await storage.db.close();

    const refused: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const probe of all) {
        const answer = await answered(app, probe);
        expectCleanRefusal(app, probe, answer);
        if (answer.status === 503) refused.push(probe.name);
      }
      await sleep(300);
    }
    // Nothing that needs the storage pretended to succeed.
    for (const name of ['native write, new cache (fast route)', 'IronCache write, new cache', 'Momento write, new cache', ...readModels]) {
      if (all.some((probe) => probe.name === name)) expect(refused).toContain(name);
    }
    // Served from memory meanwhile.
    expect((await http(`${app.url}/seeded/k`, { token })).text).toBe('before');

    // Storage is back; nothing reopens the database but the reports of the failures above.
    down = false;
    const poll = all.find((probe) => probe.name === healedWhen)!;
    const deadline = Date.now() + 20_000;
    let last: HttpResult;
    do {
      await sleep(100);
      last = await answered(app, poll);
    } while (last.status !== poll.healthy && Date.now() < deadline);
    expect(`${last.status} ${last.text}`).toMatch(new RegExp(`^${poll.healthy} `));

    for (const probe of everything) {
      const answer = await answered(app, probe);
      expect({ probe: probe.name, status: answer.status, body: answer.status === probe.healthy ? '' : answer.text }).toEqual({ probe: probe.name, status: probe.healthy, body: '' });
    }
    // The read models caught up with what was written after the fault, without a restart.
    expect((await http(`${app.url}/cacheName/fresh-a/keys`, { token })).json().keys).toEqual(['k']);
    const names = (await http(`${app.url}/cacheName/list`, { token })).json().map((row: { cacheName: string }) => row.cacheName);
    expect(names).toEqual(expect.arrayContaining(['seeded', 'fresh-a', 'fresh-e', 'fresh-g']));
    expect((await http(`${app.url}/seeded/k`, { method: 'POST', token, body: Buffer.from('after') })).status).toBe(201);
    expect((await http(`${app.url}/seeded/k`, { token })).text).toBe('after');
  }, 60_000);
});

describe('a projection run that a storage fault fails (no client involved)', () => {
  it('reports it (the database is reopened), catches up from its stored offset and applies each event once', async () => {
    const dir = tempDir();
    const backend = new LevelDbBackend(dir.path, { reopenMaxBackoffMs: 100 });
    await backend.open();
    const { storage, journal, readModels } = backend;
    const applied: number[] = [];
    const space = projectionSpace('probe');
    // Reads its rows while applying, as read models do: the read meets the fault.
    const runner = new ProjectionRunner(readModels, journal, {
      name: 'probe',
      space,
      apply: async (envelope, batch) => {
        await readModels.get(space, uint64BE(envelope.offset - 1));
        applied.push(envelope.offset);
        batch.put(uint64BE(envelope.offset), Buffer.from('applied'));
      },
    });
    try {
      await runner.start();
      const ref = { org: 'o', name: 'c' };
      const meta = { at: 1, by: 'tester', device: null };
      await journal.append(ref, 0, [{ ...meta, type: 'Created', description: '' }]);
      await runner.waitFor(1);
      await journal.append(ref, 1, [{ ...meta, type: 'Flushed' }]);
      await storage.db.close(); // before the live run (it gathers for a few ms): its read fails

      await runner.waitFor(2); // only once the database was reopened; the test's timeout bounds it
      expect(applied).toEqual([1, 2]);
      expect((await readModels.get(space, uint64BE(2)))?.toString()).toBe('applied');
    } finally {
      runner.stop();
      await backend.close();
      dir.cleanup();
    }
  }, 20_000);
});

describe('a read that fails with an I/O error while the database is open', () => {
  const ioError = (dir: string) => Object.assign(new Error(`IO error: ${dir}/000005.ldb: Input/output error`), { code: 'LEVEL_IO_ERROR' });

  async function openStorage(body: (storage: Storage, reopens: () => number) => Promise<void>): Promise<void> {
    const dir = tempDir();
    const storage = new Storage(dir.path, { reopenMaxBackoffMs: 100 });
    await storage.open();
    let reopened = 0;
    const reopen = storage.reopen.bind(storage);
    storage.reopen = () => (reopened++, reopen());
    try {
      await body(storage, () => reopened);
    } finally {
      await storage.close();
      dir.cleanup();
    }
  }

  it('is checked with a probe write: a tenant reading a damaged record cannot make the database reopen', async () => {
    await openStorage(async (storage, reopens) => {
      for (let i = 0; i < 20; i++) storage.healer.report(ioError(storage.location));
      await storage.healer.healed;
      expect(reopens()).toBe(0);
      expect(storage.isOpen).toBe(true);
      expect(storage.healer.healing).toBe(false);
    });
  });

  it('reopens the database when the probe write fails too', async () => {
    await openStorage(async (storage, reopens) => {
      const probe = storage.probeWrite.bind(storage);
      let failing = true;
      storage.probeWrite = () => (failing ? ((failing = false), Promise.reject(ioError(storage.location))) : probe());
      storage.healer.report(ioError(storage.location));
      await storage.healer.healed;
      expect(reopens()).toBe(1);
      expect(storage.isOpen).toBe(true);
      expect(await storage.meta.get(Buffer.from('probe'))).toBeDefined();
    });
  });
});
