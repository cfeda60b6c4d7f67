import { EntityRegistry } from '../../src/entities/entity-registry';
import { Journal } from '../../src/journal/journal';
import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

/** Events of a cache as the journal has them. */
async function eventTypes(app: TestApp, org: string, name: string): Promise<string[]> {
  const types: string[] = [];
  for await (const { event } of app.app.get(Journal).replay({ org, name })) types.push(`${event.type}${'key' in event ? `:${event.key}` : ''}`);
  return types;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`not within 5 s: ${what}`);
}

describe('a restart that serves at once', () => {
  const env = { ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' };
  const token = tokenFor({ org: 'lazy', serviceLevel: 'free' });
  let dir: ReturnType<typeof tempDir>;
  let app: TestApp | undefined;
  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    await app?.close();
    app = undefined;
    dir.cleanup();
  });

  it('loads no cache at start, journals due expiries without loading their cache, and never serves them', async () => {
    const clock = new ManualClock();
    app = await startTestApp({ dataDir: dir.path, env, clock });
    expect((await http(`${app.url}/sessions/s1/10`, { method: 'POST', token, body: Buffer.from('short') })).status).toBe(201);
    expect((await http(`${app.url}/sessions/s2`, { method: 'POST', token, body: Buffer.from('stays') })).status).toBe(201);
    expect((await http(`${app.url}/other/k`, { method: 'POST', token, body: Buffer.from('x') })).status).toBe(201);
    await app.close();

    clock.advance(60_000); // s1 fell due while the process was down
    app = await startTestApp({ dataDir: dir.path, env, clock });
    const registry = app.app.get(EntityRegistry);
    await eventually(async () => (await eventTypes(app!, 'lazy', 'sessions')).includes('Expired:s1'), 'Expired s1 is journaled');
    expect(registry.loaded({ org: 'lazy', name: 'sessions' })).toBeUndefined();
    expect(registry.loaded({ org: 'lazy', name: 'other' })).toBeUndefined();
    expect(registry.size).toBe(0);

    // First use recovers the cache, after that write: its sequence goes on without a gap.
    expect((await http(`${app.url}/sessions/s1`, { token })).status).toBe(404);
    expect((await http(`${app.url}/sessions/s2`, { token })).text).toBe('stays');
    expect((await http(`${app.url}/sessions/s3`, { method: 'POST', token, body: Buffer.from('new') })).status).toBe(201);
    expect(await eventTypes(app, 'lazy', 'sessions')).toEqual(['Created', 'Set:s1', 'Set:s2', 'Expired:s1', 'Set:s3']);
  });

  it('never serves or lists an entry that expired while the process was down', async () => {
    const clock = new ManualClock();
    app = await startTestApp({ dataDir: dir.path, env, clock });
    expect((await http(`${app.url}/c/k/5`, { method: 'POST', token, body: Buffer.from('v') })).status).toBe(201);
    await app.close();
    clock.advance(10_000);
    app = await startTestApp({ dataDir: dir.path, env, clock });
    expect((await http(`${app.url}/c/k`, { token })).status).toBe(404);
    expect((await http(`${app.url}/cacheName/c/keys`, { token })).json().keys).toStrictEqual([]);
  });

  it('keeps the org byte quota exact after a restart without loading the org caches', async () => {
    app = await startTestApp({ dataDir: dir.path, env });
    expect((await http(`${app.url}/q1/a`, { method: 'POST', token, body: Buffer.alloc(60) })).status).toBe(201);
    expect((await http(`${app.url}/q2/b`, { method: 'POST', token, body: Buffer.alloc(30) })).status).toBe(201);
    await app.close();

    app = await startTestApp({ dataDir: dir.path, env });
    const refused = await http(`${app.url}/q3/c`, { method: 'POST', token, body: Buffer.alloc(11) });
    expect(refused.status).toBe(400);
    expect(refused.json().code).toBe('QUOTA_EXCEEDED');
    expect((await http(`${app.url}/q3/c`, { method: 'POST', token, body: Buffer.alloc(10) })).status).toBe(201);
    const registry = app.app.get(EntityRegistry);
    expect(registry.loaded({ org: 'lazy', name: 'q1' })).toBeUndefined();
    expect(registry.loaded({ org: 'lazy', name: 'q2' })).toBeUndefined();
    expect((await http(`${app.url}/q2/b`, { method: 'POST', token, body: Buffer.alloc(31) })).status).toBe(400);
  });
});
