import { loadConfig } from '../../src/config/config';
import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const METRICS_TOKEN = 'metrics-token-for-the-tests-0123';

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('operations: health, metrics and the landing page', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  const scrape = async () => {
    const response = await http(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text;
  };

  beforeAll(async () => (app = await startTestApp({ env: { METRICS_TOKEN } })));
  afterAll(() => app.dispose());

  it('answers /health/live and /health/ready without a token once started', async () => {
    const live = await http(`${app.url}/health/live`);
    expect(live.status).toBe(200);
    expect(live.json()).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });
    const ready = await http(`${app.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, lifecycle: { status: 'up', state: 'ready' } } });
  });

  it('GET / names the version and links to the docs, the console and readiness, as JSON or HTML', async () => {
    const json = await http(`${app.url}/`);
    expect(json.status).toBe(200);
    expect(json.json()).toMatchObject({ service: 'cachelog', version: require('../../package.json').version, links: { docs: '/docs', console: '/console', ready: '/health/ready' } });
    const html = await http(`${app.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toContain('href="/console"');
    expect(html.text).toContain('href="/health/ready"');
  });

  it('refuses /metrics without the metrics token, or with a tenant JWT', async () => {
    const none = await http(`${app.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.json().code).toBe('METRICS_TOKEN_INVALID');
    const jwt = await http(`${app.url}/metrics`, { token });
    expect(jwt.status).toBe(401);
    expect(jwt.text).not.toContain('cachelog_http_requests_total');
  });

  it('counts requests, events, group commits, snapshots, entities and projection lag after some writes', async () => {
    const before = await scrape();
    const setsBefore = sample(before, 'cachelog_journal_events_total', { type: 'Set' }) ?? 0;
    const commitsBefore = sample(before, 'cachelog_journal_commit_events_count') ?? 0;
    for (let i = 0; i < 5; i++) expect((await http(`${app.url}/metrics-cache/k${i}`, { method: 'POST', token, body: Buffer.from(`v${i}`) })).status).toBe(201);
    expect((await http(`${app.url}/metrics-cache/k0`, { token })).status).toBe(200);
    expect((await http(`${app.url}/metrics-cache/missing`, { token })).status).toBe(404);
    const after = await scrape();

    expect(sample(after, 'cachelog_journal_events_total', { type: 'Set' })).toBe(setsBefore + 5);
    expect(sample(after, 'cachelog_journal_commit_events_count')! - commitsBefore).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'cachelog_journal_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    // Routes are counted by pattern: no cache name or key becomes a label.
    expect(sample(after, 'cachelog_http_requests_total', { method: 'POST', route: '/:cacheName/:key', status: '201' })).toBeGreaterThanOrEqual(5);
    expect(sample(after, 'cachelog_http_requests_total', { method: 'GET', route: '/:cacheName/:key', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain('metrics-cache');
    expect(sample(after, 'cachelog_http_request_duration_seconds_count', { method: 'POST', route: '/:cacheName/:key' })).toBeGreaterThanOrEqual(5);
    expect(sample(after, 'cachelog_entities', { state: 'ready' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'cachelog_entity_recovery_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'cachelog_journal_offset')).toBeGreaterThanOrEqual(5);
    // One series per projection that follows the journal with a stored offset (the read models
    // kept inline in the journal's own batch cannot lag, and have none).
    expect(after).toContain('# TYPE cachelog_projection_lag_events gauge');
    expect(sample(after, 'cachelog_tasks', { state: 'PENDING' })).toBe(0);
    expect(sample(after, 'cachelog_sse_clients')).toBe(0);
    expect(sample(after, 'cachelog_expiries_total')).toBe(0);
    expect(sample(after, 'cachelog_evictions_total')).toBe(0);
    expect(sample(after, 'cachelog_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts evictions and snapshots', async () => {
    const before = await scrape();
    const evictionsBefore = sample(before, 'cachelog_evictions_total')!;
    const snapshotsBefore = sample(before, 'cachelog_snapshots_total')!;
    expect((await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'small', description: '' } })).status).toBe(201);
    expect((await http(`${app.url}/cacheName/small/settings`, { method: 'PUT', token, body: { capacity: 1 } })).status).toBeLessThan(300);
    for (const key of ['a', 'b', 'c']) expect((await http(`${app.url}/small/${key}`, { method: 'POST', token, body: Buffer.from(key) })).status).toBe(201);
    const snapshot = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token, body: { resource_title: 'small', action: 'snapshot' } });
    expect(snapshot.status).toBeLessThan(300);
    const taskId = snapshot.json().task_id as string;
    for (let i = 0; i < 100; i++) {
      const state = (await http(`${app.url}/api/v1/cache/state/?task_id=${taskId}`, { token })).json().task_state;
      if (state === 'SUCCESS' || state === 'FAILURE') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=${taskId}`, { token })).json().task_state).toBe('SUCCESS');
    const after = await scrape();
    expect(sample(after, 'cachelog_evictions_total')).toBe(evictionsBefore + 2);
    expect(sample(after, 'cachelog_snapshots_total')).toBeGreaterThan(snapshotsBefore);
    expect(sample(after, 'cachelog_tasks', { state: 'SUCCESS' })).toBeGreaterThanOrEqual(1);
  });
});

describe('operations: metrics are off without METRICS_TOKEN', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it('answers 404 METRICS_DISABLED', async () => {
    const response = await http(`${app.url}/metrics`, { headers: { authorization: 'Bearer anything-at-all-0123456789' } });
    expect(response.status).toBe(404);
    expect(response.json().code).toBe('METRICS_DISABLED');
  });
});

describe('operations: readiness during shutdown', () => {
  it('answers 503 NOT_READY on /health/ready for SHUTDOWN_GRACE_SECONDS after shutdown begins, still serving meanwhile', async () => {
    const app = await startTestApp({ env: { SHUTDOWN_GRACE_SECONDS: '3' } });
    try {
      expect((await http(`${app.url}/health/ready`)).status).toBe(200);
      const closing = app.close(); // what SIGTERM calls
      const ready = await http(`${app.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.json()).toMatchObject({ code: 'NOT_READY', status: 'error', error: { lifecycle: { status: 'down', state: 'stopping' } } });
      expect((await http(`${app.url}/health/live`)).status).toBe(200);
      await closing;
      await expect(http(`${app.url}/health/live`)).rejects.toThrow();
    } finally {
      await app.dispose();
    }
  });

  it('refuses a SHUTDOWN_GRACE_SECONDS over 300', () => {
    expect(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '301' })).toThrow(/SHUTDOWN_GRACE_SECONDS must be at most 300/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16/);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
    expect(loadConfig({})).toMatchObject({ shutdownGraceMs: 0, logLevel: 'info', logFormat: 'auto', metricsToken: undefined });
  });
});

describe('operations: readiness while storage is down', () => {
  it('answers 503 (database down) while the database is being reopened after a fault, and 200 once it is back', async () => {
    const app = await startTestApp();
    const token = tokenFor({ org: 'ready' });
    try {
      // The fault, as the storage-fault tests make it: the handle is gone and reopening fails until storage is back.
      const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
      const open = storage.db.open.bind(storage.db);
      let down = true;
      (storage.db as unknown as { open: unknown }).open = (...args: unknown[]) =>
        down ? Promise.reject(Object.assign(new Error('IO error: Input/output error'), { code: 'LEVEL_IO_ERROR' })) : (open as (...a: unknown[]) => Promise<void>)(...args);
      await storage.db.close();
      expect((await http(`${app.url}/fault/k`, { method: 'POST', token, body: Buffer.from('v') })).status).toBe(503);

      const ready = await http(`${app.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.json()).toMatchObject({ code: 'NOT_READY', error: { database: { status: 'down' } } });
      expect((await http(`${app.url}/health/live`)).status).toBe(200);

      down = false;
      let status = 0;
      for (let i = 0; i < 200 && status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await http(`${app.url}/health/ready`)).status;
      }
      expect(status).toBe(200);
    } finally {
      await app.dispose();
    }
  });
});
