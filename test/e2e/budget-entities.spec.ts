import { EntityRegistry } from '../../src/entities/entity-registry';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Memory budget: entities per org. Reads and deletes naming caches that do not
 * exist each recovered an in-memory entity (one 10,000-element batch: RSS 1.6 GB); deleted
 * caches' entities stayed loaded for ENTITY_IDLE_SECONDS; nothing bounded an org's loaded
 * entities. Now a cache the read models say is not live is answered without an entity, a
 * deleted cache is unloaded once its deletion is durable, and MAX_ENTITIES_PER_ORG passivates
 * the org's own least recently used idle entities.
 */
describe('budget: entities per org', () => {
  let app: TestApp;
  let registry: EntityRegistry;
  const attacker = tokenFor({ org: 'attacker' });
  const bystander = tokenFor({ org: 'bystander' });
  const MAX = 8;
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_ENTITIES_PER_ORG: String(MAX), JOURNAL_SYNC: 'none' } });
    registry = app.app.get(EntityRegistry);
  });
  afterAll(() => app.dispose());

  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

  it('a batch of reads, deletes and key listings of 10,000 missing caches loads no entity, and answers as before', async () => {
    const getCachedBatch = Array.from({ length: 10_000 }, (_, i) => ({ cacheName: `missing${i}`, key: 'k' }));
    const read = await http(`${app.url}/batch/get`, { method: 'POST', token: attacker, body: { getCachedBatch } });
    expect(read.status).toBe(200);
    expect(read.json().results.every((r: { success: boolean }) => r.success === false)).toBe(true);
    const deleted = await http(`${app.url}/batch`, { method: 'DELETE', token: attacker, body: { getCachedBatch } });
    expect(deleted.status).toBe(200);
    expect(deleted.json().success).toBe(false);
    for (let i = 0; i < 50; i++) {
      expect((await http(`${app.url}/missing${i}/k`, { token: attacker })).status).toBe(404);
      expect((await http(`${app.url}/cacheName/missing${i}/keys`, { token: attacker })).status).toBe(400);
      expect((await http(`${app.url}/cacheName/missing${i}`, { method: 'DELETE', token: attacker })).status).toBeGreaterThanOrEqual(200);
      expect((await http(`${app.url}/cacheName/missing${i}/events`, { token: attacker })).status).toBeLessThan(500);
    }
    expect(registry.loadedIn('attacker')).toBe(0);
  }, 120_000);

  it('a deleted cache is unloaded once its deletion is durable, and reads of it load nothing', async () => {
    expect((await http(`${app.url}/gone/k`, { method: 'POST', token: attacker, body: Buffer.from('v') })).status).toBe(201);
    expect(registry.loadedIn('attacker')).toBe(1);
    expect((await http(`${app.url}/cacheName/gone`, { method: 'DELETE', token: attacker })).status).toBe(202);
    await settle();
    expect(registry.loadedIn('attacker')).toBe(0);
    const name = await http(`${app.url}/cacheName/gone`, { token: attacker });
    expect(name.status).toBe(200);
    expect(name.json()).toMatchObject({ cacheName: 'gone', deleted: true });
    expect((await http(`${app.url}/gone/k`, { token: attacker })).status).toBe(404);
    expect(registry.loadedIn('attacker')).toBe(0);
    // Revived by a write: an entity again, with the deleted history behind it.
    expect((await http(`${app.url}/gone/k`, { method: 'POST', token: attacker, body: Buffer.from('w') })).status).toBe(201);
    expect((await http(`${app.url}/gone/k`, { token: attacker })).text).toBe('w');
  });

  it("MAX_ENTITIES_PER_ORG passivates the org's own least recently used idle entities, never another org's", async () => {
    expect((await http(`${app.url}/mine/k`, { method: 'POST', token: bystander, body: Buffer.from('mine') })).status).toBe(201);
    for (let i = 0; i < 3 * MAX; i++) {
      expect((await http(`${app.url}/c${i}/k`, { method: 'POST', token: attacker, body: Buffer.from(`v${i}`) })).status).toBe(201);
      expect(registry.loadedIn('attacker')).toBeLessThanOrEqual(MAX);
    }
    expect(registry.loadedIn('bystander')).toBe(1);
    expect(registry.loaded({ org: 'bystander', name: 'mine' })).toBeDefined();
    // The most recently used stay; the oldest were passivated and recover on their next use.
    expect(registry.loaded({ org: 'attacker', name: `c${3 * MAX - 1}` })).toBeDefined();
    expect(registry.loaded({ org: 'attacker', name: 'c0' })).toBeUndefined();
    expect((await http(`${app.url}/c0/k`, { token: attacker })).text).toBe('v0');
    expect(registry.loadedIn('attacker')).toBeLessThanOrEqual(MAX);
  });

  it('a burst of creating writes to more caches than the bound is answered, then trimmed to it once idle', async () => {
    const cacheRequests = Array.from({ length: 200 }, (_, i) => ({ cacheName: `burst${i}`, key: 'k', value: 'YQ==' }));
    const answer = await http(`${app.url}/batch`, { method: 'POST', token: attacker, body: { cacheRequests } });
    expect(answer.status).toBe(200);
    expect(answer.json().results.every((r: { success: boolean }) => r.success)).toBe(true);
    await settle();
    expect(registry.loadedIn('attacker')).toBeLessThanOrEqual(MAX);
    expect(registry.loaded({ org: 'bystander', name: 'mine' })).toBeDefined();
    expect((await http(`${app.url}/get/burst7/k`, { token: attacker })).json().value).toBe('YQ==');
  });
});
