import { setTimeout as sleep } from 'node:timers/promises';
import { Storage } from '../../src/journal/storage';
import { HttpResult, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

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
  { name: 'native point-in-time read (journal)', family: 'native', send: native('/seeded/k?at=1'), healthy: 200 },
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
  it.each([
    ['that only reads meet', (probe: Probe) => !probe.writes],
    ['that reads and writes meet', () => true],
  ])('%s: 503 in every family, healed once storage is back, then every request answers normally', async (_case, included) => {
    app = await startTestApp({ env: { JOURNAL_REOPEN_MAX_BACKOFF_MS: '200' } });
    expect((await http(`${app.url}/seeded/k`, { method: 'POST', token, body: Buffer.from('before') })).status).toBe(201);
    const submitted = await http(`${app.url}/api/v1/cache/refresh`, { method: 'POST', token, body: { resource_title: 'seeded', action: 'export' } });
    expect(submitted.status).toBe(200);
    // The task's own record writes must not be what reports the fault.
    const taskState = () => http(`${app.url}/api/v1/cache/state?task_id=${submitted.json().task_id}`, { token });
    while ((await taskState()).json().task_state !== 'SUCCESS') await sleep(50);
    const all = probes(submitted.json().task_id).filter(included);

    // The fault: the database handle is gone, and reopening it fails (naming a server file) until storage is back.
    const storage = app.app.get(Storage);
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
    for (const name of ['native write, new cache (fast route)', 'IronCache write, new cache', 'Momento write, new cache', 'native cache list (read model)', 'task state (task records)']) {
      expect(refused).toContain(name);
    }
    // Served from memory meanwhile.
    expect((await http(`${app.url}/seeded/k`, { token })).text).toBe('before');

    // Storage is back: only reads of caches never loaded (the reported case) reach it, and they heal it.
    down = false;
    const ironWrite = all.find((probe) => probe.name === 'IronCache write, new cache')!;
    const deadline = Date.now() + 20_000;
    let last: HttpResult;
    do {
      await sleep(100);
      last = await answered(app, ironWrite);
    } while (last.status !== 200 && Date.now() < deadline);
    expect(`${last.status} ${last.text}`).toMatch(/^200 /);

    for (const probe of all) {
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
