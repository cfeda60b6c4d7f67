import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('caches per org are limited', () => {
  let app: TestApp;
  const acme = tokenFor({ org: 'acme', name: 'alice' });
  const umbrella = tokenFor({ org: 'umbrella', name: 'ursula' });
  afterEach(() => app?.dispose());

  const create = (token: string, cacheName: string) => http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName, description: 'd' } });
  const names = async (token: string) => (await http(`${app.url}/cacheName/list`, { token })).json().map((r: { cacheName: string }) => r.cacheName).sort();

  it('refuses a new cache beyond MAX_CACHES_PER_ORG in every family, creates nothing, and counts deletions and restarts', async () => {
    app = await startTestApp({ env: { MAX_CACHES_PER_ORG: '3' } });
    for (const name of ['c1', 'c2', 'c3']) expect((await create(acme, name)).status).toBe(201);

    const explicit = await create(acme, 'c4');
    expect(explicit.status).toBe(409);
    expect(explicit.json()).toMatchObject({ code: 'CACHE_LIMIT_REACHED', message: expect.stringContaining('MAX_CACHES_PER_ORG') });
    const viaSet = await http(`${app.url}/set`, { method: 'POST', token: acme, body: { cacheName: 'c5', key: 'k', value: b64('v') } });
    expect(viaSet.json().code).toBe('CACHE_LIMIT_REACHED');
    expect((await http(`${app.url}/c6/k`, { method: 'POST', token: acme, body: Buffer.from('v') })).status).toBe(409);
    const iron = await http(`${app.url}/1/projects/acme/caches/c7/items/k`, { method: 'PUT', token: acme, body: { value: 'v' } });
    expect(iron.status).toBe(403);
    expect(iron.json().msg).toMatch(/cache limit/);
    const increment = await http(`${app.url}/1/projects/acme/caches/c8/items/n/increment`, { method: 'POST', token: acme, body: { amount: 1 } });
    expect(increment.status).toBe(403);

    // Nothing half-done: no name, no event, and the existing caches still take writes.
    expect(await names(acme)).toEqual(['c1', 'c2', 'c3']);
    for (const name of ['c4', 'c5', 'c6', 'c7', 'c8']) expect((await http(`${app.url}/cacheName/${name}`, { token: acme })).status).toBe(400);
    expect((await http(`${app.url}/c1/k`, { method: 'POST', token: acme, body: Buffer.from('v') })).status).toBe(201);
    expect((await create(acme, 'c2')).status).toBe(201); // re-creating a live one only changes its description
    // Another org has its own count.
    expect((await create(umbrella, 'c4')).status).toBe(201);

    expect((await http(`${app.url}/cacheName/c1`, { method: 'DELETE', token: acme })).status).toBe(202);
    expect((await create(acme, 'c4')).status).toBe(201);
    expect((await create(acme, 'c5')).status).toBe(409);

    // After a restart the count is read back from the cache-name read model.
    const dir = app.dataDir;
    await app.close();
    app = await startTestApp({ dataDir: dir, env: { MAX_CACHES_PER_ORG: '3' } });
    expect((await create(acme, 'c5')).json().code).toBe('CACHE_LIMIT_REACHED');
    expect((await create(acme, 'c1')).status).toBe(409); // deleted: reviving it is a creation
    expect(await names(acme)).toEqual(['c2', 'c3', 'c4']);
  });

  it('refuses the elements of a batch over many new names in place, while other orgs keep being answered', async () => {
    app = await startTestApp({ env: { MAX_CACHES_PER_ORG: '50' } });
    expect((await http(`${app.url}/mine/k`, { method: 'POST', token: umbrella, body: Buffer.from('v') })).status).toBe(201);
    expect((await create(acme, 'existing')).status).toBe(201);
    const cacheRequests = [
      { cacheName: 'existing', key: 'k', value: b64('v') },
      ...Array.from({ length: 9_999 }, (_, i) => ({ cacheName: `new-${i}`, key: 'k', value: b64('v') })),
    ];
    const batch = http(`${app.url}/batch`, { method: 'POST', token: acme, body: { cacheRequests } });
    // Harm check, generous bound: another org's reads answer while the batch runs.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      expect((await http(`${app.url}/mine/k`, { token: umbrella })).text).toBe('v');
      expect(Date.now() - started).toBeLessThan(5000);
    }
    const answer = await batch;
    expect(answer.status).toBe(200);
    const results: Array<{ cacheName: string; success: boolean }> = answer.json().results;
    expect(answer.json().complete).toBe(false);
    expect(results).toHaveLength(10_000);
    expect(results[0]).toMatchObject({ cacheName: 'existing', success: true });
    const created = results.filter((r) => r.success && r.cacheName !== 'existing').map((r) => r.cacheName).sort();
    expect(created).toHaveLength(49);
    expect(await names(acme)).toEqual(['existing', ...created].sort());
  });
});
