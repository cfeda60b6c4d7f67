import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { SnapshotStore } from '../../src/journal/snapshot-store';
import { ManualClock } from '../support/manual-clock';
import { TaskView, finished, submitTask } from '../support/tasks';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('background tasks over HTTP', () => {
  let app: TestApp;
  const clock = new ManualClock();
  const token = tokenFor({ org: 'acme', name: 'alice' });
  const other = tokenFor({ org: 'umbrella', name: 'mallory' });
  beforeEach(async () => (app = await startTestApp({ clock, env: { SNAPSHOT_EVERY: '1000' } })));
  afterEach(() => app.dispose());

  const set = (cacheName: string, key: string, value: string, headers: Record<string, string> = {}) =>
    http(`${app.url}/set`, { method: 'POST', token, body: { cacheName, key, value: b64(value) }, headers });
  const get = async (cacheName: string, key: string) => {
    const got = (await http(`${app.url}/get/${cacheName}/${key}`, { token })).json();
    return got.success ? Buffer.from(got.value, 'base64').toString() : undefined;
  };
  const keys = async (cacheName: string) => (await http(`${app.url}/cacheName/${cacheName}/keys`, { token })).json().keys;
  const run = async (body: Record<string, unknown>) => finished(app.url, token, await submitTask(app.url, token, body));

  it('answers refresh with a task id, state and ETag, and the state by task id', async () => {
    await set('c', 'k', 'v');
    const submitted = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token, body: { resource_title: 'c', action: 'snapshot' } });
    expect(submitted.status).toBe(200);
    expect(submitted.json()).toEqual({ task_id: expect.any(String), task_state: 'PENDING' });
    expect(submitted.headers.get('etag')).toMatch(/^".+"$/);
    const done = await finished(app.url, token, submitted.json().task_id);
    expect(done).toMatchObject({ task_state: 'SUCCESS', action: 'snapshot', result: { seq: 2, snapshotSeq: 2 } });
    const state = await http(`${app.url}/api/v1/cache/state/?task_id=${done.task_id}`, { token });
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=${done.task_id}`, { token, headers: { 'if-none-match': state.headers.get('etag')! } })).status).toBe(304);
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=${done.task_id}`, { token: other })).status).toBe(404);
    expect((await app.app.get(SnapshotStore).load({ org: 'acme', name: 'c' }))?.seq).toBe(2);
  });

  it('rejects bad task requests with 400 and changes nothing', async () => {
    await set('c', 'k', 'v');
    const post = (body: unknown) => http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token, body });
    expect((await post({ resource_title: 'c', action: 'explode' })).json().code).toBe('INVALID_REQUEST');
    expect((await post({ resource_title: 'c', action: 'restore' })).json().code).toBe('INVALID_REQUEST');
    expect((await post({ resource_title: 'c', action: 'restore', asOf: 'last tuesday' })).json().code).toBe('INVALID_REQUEST');
    expect((await post({ resource_title: 'c', action: 'compact', retention: 'forever' })).json().code).toBe('INVALID_REQUEST');
    expect((await post({ resource_title: 'nope', action: 'snapshot' })).json().code).toBe('CACHE_NOT_FOUND');
    expect((await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: other, body: { resource_title: 'c', action: 'snapshot' } })).json().code).toBe('CACHE_NOT_FOUND');
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=missing`, { token })).status).toBe(404);
  });

  it('lists the org\'s caches with last writer, device, time, version and etag', async () => {
    clock.advance(1000);
    await set('one', 'k', 'v', { 'x-device-id': 'tablet-7' });
    await set('two', 'k', 'v');
    await http(`${app.url}/two/k`, { method: 'DELETE', token: tokenFor({ org: 'acme', name: 'bob' }) });
    await http(`${app.url}/set`, { method: 'POST', token: other, body: { cacheName: 'theirs', key: 'k', value: b64('v') } });
    const listed = await http(`${app.url}/api/v1/cache/`, { token });
    expect(listed.status).toBe(200);
    expect(listed.json()).toEqual([
      { resource_title: 'one', user: 'alice', device: 'tablet-7', sync_datetime: new Date(clock.now()).toISOString(), version: 2, etag: '"v2"' },
      { resource_title: 'two', user: 'bob', device: null, sync_datetime: new Date(clock.now()).toISOString(), version: 3, etag: '"v3"' },
    ]);
    expect((await http(`${app.url}/api/v1/cache/`, { token, headers: { 'if-none-match': listed.headers.get('etag')! } })).status).toBe(304);
    await set('one', 'k2', 'v');
    expect((await http(`${app.url}/api/v1/cache/`, { token, headers: { 'if-none-match': listed.headers.get('etag')! } })).status).toBe(200);
  });

  it('exports a cache\'s events as NDJSON under DATA_DIR/exports', async () => {
    await set('exp', 'a', 'alpha');
    await set('exp', 'b', 'beta');
    await http(`${app.url}/exp/a`, { method: 'DELETE', token });
    const done = await run({ resource_title: 'exp', action: 'export' });
    expect(done).toMatchObject({ task_state: 'SUCCESS', result: { events: 4, throughSeq: 4 } });
    const file = join(app.dataDir, done.result!.file);
    expect(file.startsWith(join(app.dataDir, 'exports'))).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    // The events, then the trailer an import requires (a file cut short has none).
    expect(lines.pop()).toEqual({ type: 'ExportComplete', events: 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(lines.map((l) => [l.seq, l.type, l.key])).toEqual([[1, 'Created', undefined], [2, 'Set', 'a'], [3, 'Set', 'b'], [4, 'Deleted', 'a']]);
    expect(lines[2]).toMatchObject({ org: 'acme', cacheName: 'exp', value: b64('beta'), by: 'alice' });
  });

  it('rebuilds the projections and finds them equal to the live state', async () => {
    for (let i = 0; i < 20; i++) await set('rb', `k${i % 6}`, `v${i}`);
    await http(`${app.url}/rb/k1`, { method: 'DELETE', token });
    const done = await run({ resource_title: 'rb', action: 'rebuild' });
    expect(done).toMatchObject({ task_state: 'SUCCESS', result: { equal: true, keys: 5 } });
    expect(await keys('rb')).toEqual(['k0', 'k2', 'k3', 'k4', 'k5']);
  });

  it('compacts only as the retention allows, and the cache, its projections and its restart stay right', async () => {
    for (let i = 0; i < 30; i++) await set('cmp', `k${i % 4}`, `v${i}`);
    await http(`${app.url}/cacheName/cmp/flush`, { method: 'PUT', token });
    for (let i = 0; i < 10; i++) await set('cmp', `k${i % 3}`, `w${i}`);
    await http(`${app.url}/cmp/k0`, { method: 'DELETE', token });
    await run({ resource_title: 'cmp', action: 'snapshot' });
    const before = { k1: await get('cmp', 'k1'), k2: await get('cmp', 'k2'), keys: await keys('cmp') };

    const kept = await run({ resource_title: 'cmp', action: 'compact' });
    expect(kept).toMatchObject({ task_state: 'SUCCESS', result: { retention: 'all', dropped: 0 } });

    const compacted = await run({ resource_title: 'cmp', action: 'compact', retention: 'snapshots:1' });
    expect(compacted.task_state).toBe('SUCCESS');
    // kept: Created, the last Set of k1 and of k2, and the event at the cut (43: Deleted k0)
    expect(compacted.result).toMatchObject({ throughSeq: 43, kept: 4 });
    expect(compacted.result!.dropped).toBe(39);
    const events = (await http(`${app.url}/cacheName/cmp/events?limit=1000`, { token })).json().events;
    expect(events.map((e: { seq: number }) => e.seq)).toEqual([1, 40, 41, 43]);
    expect((await http(`${app.url}/get/cmp/k1?at=20`, { token })).status).toBe(410);
    expect((await http(`${app.url}/get/cmp/k1?at=43`, { token })).json()).toMatchObject({ success: true, value: b64(before.k1!) });

    await set('cmp', 'k9', 'after');
    expect(await run({ resource_title: 'cmp', action: 'rebuild' })).toMatchObject({ task_state: 'SUCCESS', result: { equal: true } });
    expect(await keys('cmp')).toEqual([...before.keys, 'k9']);

    await app.close();
    app = await startTestApp({ dataDir: app.dataDir, clock });
    expect({ k1: await get('cmp', 'k1'), k2: await get('cmp', 'k2') }).toEqual({ k1: before.k1, k2: before.k2 });
    expect(await keys('cmp')).toEqual([...before.keys, 'k9']);
  });

  it('compacts a cache with settings and evictions, and rebuilt projections still equal the live state', async () => {
    await set('lru', 'seed', 'x');
    expect((await http(`${app.url}/cacheName/lru/settings`, { method: 'PUT', token, body: { capacity: 3 } })).status).toBe(200);
    for (let i = 0; i < 12; i++) await set('lru', `k${i}`, `v${i}`);
    const events = (await http(`${app.url}/cacheName/lru/events?limit=1000`, { token })).json().events;
    expect(events.some((e: { type: string }) => e.type === 'Evicted')).toBe(true);
    await run({ resource_title: 'lru', action: 'snapshot' });
    const compacted = await run({ resource_title: 'lru', action: 'compact', retention: 'snapshots:1' });
    expect(compacted.result!.dropped).toBeGreaterThan(0);
    expect(await run({ resource_title: 'lru', action: 'rebuild' })).toMatchObject({ task_state: 'SUCCESS', result: { equal: true, keys: 3 } });
    const kept = (await http(`${app.url}/cacheName/lru/events?limit=1000`, { token })).json().events.map((e: { type: string }) => e.type);
    expect(kept).toEqual(['Created', 'SettingsChanged', 'Set', 'Set', 'Set']);
    await set('lru', 'k12', 'v12'); // the capacity survived compaction: one more write evicts
    expect(await keys('lru')).toEqual(['k10', 'k11', 'k12']);
  });

  it('restores a past state by appending events, and the restored state survives a restart', async () => {
    await set('rs', 'a', 'a1');
    await set('rs', 'b', 'b1');
    const at = 3;
    await set('rs', 'a', 'a2');
    await http(`${app.url}/rs/b`, { method: 'DELETE', token });
    await set('rs', 'c', 'c1');
    const done = await finished(app.url, token, await submitTask(app.url, token, { resource_title: 'rs', action: 'restore', at }, { 'x-device-id': 'ops-console' }));
    expect(done).toMatchObject({ task_state: 'SUCCESS', result: { restoredTo: 3, appended: 3, seq: 9 } });
    expect({ a: await get('rs', 'a'), b: await get('rs', 'b'), c: await get('rs', 'c') }).toEqual({ a: 'a1', b: 'b1', c: undefined });

    const events = (await http(`${app.url}/cacheName/rs/events`, { token })).json().events;
    expect(events.slice(0, 6).map((e: { type: string }) => e.type)).toEqual(['Created', 'Set', 'Set', 'Set', 'Deleted', 'Set']);
    expect(events.slice(6).map((e: { type: string; key: string; device: string }) => [e.type, e.key, e.device])).toEqual([
      ['Deleted', 'c', 'ops-console'],
      ['Set', 'a', 'ops-console'],
      ['Set', 'b', 'ops-console'],
    ]);

    await app.close();
    app = await startTestApp({ dataDir: app.dataDir, clock });
    expect({ a: await get('rs', 'a'), b: await get('rs', 'b'), c: await get('rs', 'c') }).toEqual({ a: 'a1', b: 'b1', c: undefined });
    expect(await keys('rs')).toEqual(['a', 'b']);
  });

  it('restores as of a time', async () => {
    clock.advance(60_000);
    await set('rt', 'k', 'then');
    const asOf = new Date(clock.now()).toISOString();
    clock.advance(60_000);
    await set('rt', 'k', 'now');
    expect(await run({ resource_title: 'rt', action: 'restore', asOf })).toMatchObject({ task_state: 'SUCCESS', result: { restoredTo: 2 } });
    expect(await get('rt', 'k')).toBe('then');
  });

  it('runs the tasks of one cache one after another in the order they were asked', async () => {
    await set('fifo', 'k', 'one'); // seq 2
    await set('fifo', 'k', 'two'); // seq 3
    const ids = [];
    for (const body of [
      { action: 'restore', at: 2 },
      { action: 'export' },
      { action: 'restore', at: 3 },
      { action: 'export' },
      { action: 'snapshot' },
    ]) {
      ids.push(await submitTask(app.url, token, { resource_title: 'fifo', ...body }));
    }
    const results: TaskView[] = [];
    for (const id of ids) results.push(await finished(app.url, token, id));
    expect(results.map((r) => r.task_state)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(results.map((r) => r.result!.seq ?? r.result!.throughSeq)).toEqual([4, 4, 5, 5, 5]);
    // The events of each export (its last line is the trailer).
    const exported = (i: number) => readFileSync(join(app.dataDir, results[i].result!.file), 'utf8').trim().split('\n').slice(0, -1).map((l) => JSON.parse(l));
    expect(exported(1).at(-1)).toMatchObject({ seq: 4, type: 'Set', value: b64('one') });
    expect(exported(3).at(-1)).toMatchObject({ seq: 5, type: 'Set', value: b64('two') });
  });

  it('answers task states after a restart: finished stay, interrupted fail with a reason, pending resume', async () => {
    await set('r', 'k', 'v');
    const done = await run({ resource_title: 'r', action: 'export' });
    await app.close();

    // Simulate a crash: a task left STARTED and one left PENDING, written while the app is down.
    const backend = new LevelDbBackend(app.dataDir);
    await backend.open();
    const { storage } = backend;
    const record = (id: string, n: number, state: string) => ({
      id, n, org: 'acme', cacheName: 'r', action: 'snapshot', params: {}, by: 'alice', device: null, state, createdAt: clock.now(),
    });
    await storage.tasks.put(Buffer.from('crashed'), Buffer.from(JSON.stringify(record('crashed', 100, 'STARTED'))));
    await storage.tasks.put(Buffer.from('waiting'), Buffer.from(JSON.stringify(record('waiting', 101, 'PENDING'))));
    await storage.tasks.put(Buffer.from('torn'), Buffer.from('{"id":"torn","n":1')); // unreadable: skipped, not fatal
    await backend.close();

    app = await startTestApp({ dataDir: app.dataDir, clock });
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=${done.task_id}`, { token })).json()).toMatchObject({ task_state: 'SUCCESS', action: 'export' });
    const crashed = (await http(`${app.url}/api/v1/cache/state/?task_id=crashed`, { token })).json();
    expect(crashed).toMatchObject({ task_state: 'FAILURE', reason: expect.stringContaining('process stopped') });
    expect(await finished(app.url, token, 'waiting')).toMatchObject({ task_state: 'SUCCESS', result: { snapshotSeq: 2 } });
    const next = await run({ resource_title: 'r', action: 'snapshot' });
    expect(next.task_state).toBe('SUCCESS');
    expect(existsSync(join(app.dataDir, done.result!.file))).toBe(true);
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=torn`, { token })).status).toBe(404);
  });
});
