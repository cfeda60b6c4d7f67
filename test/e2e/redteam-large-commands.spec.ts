import { finished } from '../support/tasks';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Red-team pass after the hardening pass: one command whose decision is a very long list of events.
 * Lowering a cache's capacity under its size evicts one key per event, and restoring a large
 * cache sets one key per event. Both once spread that list into a function call, which
 * overflows the stack past ~120k events; the exception escaped the entity's unawaited mailbox
 * loop, so one tenant's settings change (or restore task) ended the process. Without the crash,
 * a 200k-event command still paused every org for seconds (measured: 3.3 s for a capacity cut,
 * 6.2 s for a restore), so a command may append at most MAX_EVENTS_PER_COMMAND events.
 * On a loaded machine the 150k-key restore held the event loop past the keep-alive timeout, and
 * the task poll sent meanwhile was reset with its connection (ECONNRESET); the server now serves
 * a request that arrived during such a hold (test/e2e/keep-alive-after-stall.spec.ts).
 */
const BATCH = 10_000;

async function fill(app: TestApp, token: string, cacheName: string, keys: number): Promise<void> {
  for (let i = 0; i < keys; i += BATCH) {
    const cacheRequests = Array.from({ length: Math.min(BATCH, keys - i) }, (_, j) => ({ cacheName, key: `k${i + j}`, value: 'YQ==' }));
    expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests } })).status).toBe(200);
  }
}

const size = async (app: TestApp, token: string, org: string, cacheName: string): Promise<number> =>
  (await http(`${app.url}/1/projects/${org}/caches/${cacheName}`, { headers: { authorization: `OAuth ${token}` } })).json().size;

const seqOf = async (app: TestApp, token: string, cacheName: string): Promise<number> =>
  Number((await http(`${app.url}/get/${cacheName}/k1`, { token })).headers.get('etag')!.replace(/\D/g, ''));

async function restoreAfterFlush(app: TestApp, token: string, cacheName: string) {
  const seq = await seqOf(app, token, cacheName);
  expect((await http(`${app.url}/cacheName/${cacheName}/flush`, { method: 'PUT', token })).status).toBe(202);
  const submitted = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token, body: { resource_title: cacheName, action: 'restore', at: seq } });
  expect(submitted.status).toBe(200);
  return finished(app.url, token, submitted.json().task_id);
}

describe('red team: a command that decides more events than a call can take as arguments', () => {
  const KEYS = 150_000;
  let app: TestApp;
  const token = tokenFor({ org: 'attacker' });
  const bystander = tokenFor({ org: 'bystander' });
  // One fill serves both tests: the restore brings back the KEYS keys the cut then evicts. No
  // compaction by itself (HISTORY_COMPACT_FACTOR 0): the flush and the cut would each start one
  // over the whole history in the background (up to 450,000 events dropped, and waited for at
  // shutdown), which these tests never look at (test/e2e/budget-disk.spec.ts does).
  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', MAX_EVENTS_PER_COMMAND: '1000000', HISTORY_COMPACT_FACTOR: '0' } });
    expect((await http(`${app.url}/mine/k`, { method: 'POST', token: bystander, body: Buffer.from('mine') })).status).toBe(201);
    await fill(app, token, 'big', KEYS);
  }, 120_000);
  afterAll(() => app.dispose());

  it('restoring a cache of very many keys succeeds, and the service goes on', async () => {
    const task = await restoreAfterFlush(app, token, 'big');
    expect(task.task_state).toBe('SUCCESS');
    expect(task.result).toMatchObject({ appended: KEYS });
    expect(await size(app, token, 'attacker', 'big')).toBe(KEYS);
    expect((await http(`${app.url}/mine/k`, { token: bystander })).text).toBe('mine');
  }, 120_000);

  it('lowering capacity far under the size evicts every excess key, and the service goes on', async () => {
    expect(await size(app, token, 'attacker', 'big')).toBe(KEYS);
    const answer = await http(`${app.url}/cacheName/big/settings`, { method: 'PUT', token, body: { capacity: 1 } });
    expect(answer.status).toBe(200);
    expect(await size(app, token, 'attacker', 'big')).toBe(1);
    expect((await http(`${app.url}/mine/k`, { token: bystander })).text).toBe('mine');
  }, 120_000);
});

describe('MAX_EVENTS_PER_COMMAND bounds what one command appends', () => {
  const KEYS = 150;
  let app: TestApp;
  const token = tokenFor({ org: 'attacker' });
  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', MAX_EVENTS_PER_COMMAND: '100' } });
    await fill(app, token, 'c', KEYS);
  });
  afterAll(() => app.dispose());

  it('a capacity cut that would evict more is 409 TOO_MANY_EVENTS and changes nothing', async () => {
    const before = await seqOf(app, token, 'c');
    const answer = await http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: { capacity: 1 } });
    expect(answer.status).toBe(409);
    expect(answer.json()).toEqual({ error: 'too_many_events', error_description: expect.stringContaining('MAX_EVENTS_PER_COMMAND') });
    expect(await size(app, token, 'attacker', 'c')).toBe(KEYS);
    expect((await http(`${app.url}/cacheName/c/settings`, { token })).json().capacity).toBe(0);
    expect(await seqOf(app, token, 'c')).toBe(before);
  });

  it('a cut within the bound evicts; steps reach any capacity', async () => {
    expect((await http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: { capacity: 60 } })).status).toBe(200);
    expect(await size(app, token, 'attacker', 'c')).toBe(60);
    expect((await http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: { capacity: 1 } })).status).toBe(200);
    expect(await size(app, token, 'attacker', 'c')).toBe(1);
  });

  it('a restore that needs more ends FAILURE naming the setting, and appends nothing', async () => {
    expect((await http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: { capacity: 0 } })).status).toBe(200);
    await fill(app, token, 'c', KEYS);
    const task = await restoreAfterFlush(app, token, 'c');
    expect(task.task_state).toBe('FAILURE');
    expect(task.reason).toContain('TOO_MANY_EVENTS');
    expect(await size(app, token, 'attacker', 'c')).toBe(0);
  });
});
