import { finished, submitTask } from '../support/tasks';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('per-org byte quota by service level', () => {
  let app: TestApp;
  const env = { ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' };
  const token = tokenFor({ org: 'quota', serviceLevel: 'free' });
  beforeAll(async () => (app = await startTestApp({ env })));
  afterAll(() => app.dispose());

  it('counts every cache of the org exactly and refuses the write that would exceed it, writing nothing', async () => {
    expect((await http(`${app.url}/q1/a`, { method: 'POST', token, body: Buffer.alloc(60) })).status).toBe(201);
    expect((await http(`${app.url}/q2/b`, { method: 'POST', token, body: Buffer.alloc(40) })).status).toBe(201);
    const refused = await http(`${app.url}/q2/c`, { method: 'POST', token, body: Buffer.alloc(1) });
    expect(refused.status).toBe(400);
    expect(refused.json().code).toBe('QUOTA_EXCEEDED');
    expect((await http(`${app.url}/q2/c`, { token })).status).toBe(404);
    // Overwriting with a smaller value frees bytes; deleting frees them all.
    expect((await http(`${app.url}/q1/a`, { method: 'POST', token, body: Buffer.alloc(50) })).status).toBe(201);
    expect((await http(`${app.url}/q2/c`, { method: 'POST', token, body: Buffer.alloc(10) })).status).toBe(201);
    expect((await http(`${app.url}/q2/d`, { method: 'POST', token, body: Buffer.alloc(1) })).status).toBe(400);
    expect((await http(`${app.url}/cacheName/q1`, { method: 'DELETE', token })).status).toBe(202);
    expect((await http(`${app.url}/q2/d`, { method: 'POST', token, body: Buffer.alloc(50) })).status).toBe(201);
    // Another org has its own quota.
    expect((await http(`${app.url}/q1/a`, { method: 'POST', token: tokenFor({ org: 'other' }), body: Buffer.alloc(100) })).status).toBe(201);
  });

  it('is exact under concurrency across caches, and after a restart', async () => {
    const racer = tokenFor({ org: 'racer' });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => http(`${app.url}/r${i % 3}/k${i}`, { method: 'POST', token: racer, body: Buffer.alloc(10) })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 400)).toHaveLength(20);

    await app.close();
    app = await startTestApp({ env, dataDir: app.dataDir });
    expect((await http(`${app.url}/r0/more`, { method: 'POST', token: racer, body: Buffer.alloc(1) })).status).toBe(400);
    const batch = await http(`${app.url}/batch`, { method: 'POST', token: racer, body: { cacheRequests: [{ cacheName: 'r1', key: 'x', value: 'AA==' }] } });
    expect(batch.json()).toEqual({ complete: false, results: [{ cacheName: 'r1', key: 'x', success: false }] });
  });

  it('applies to IronCache increments too', async () => {
    const counter = tokenFor({ org: 'counter' });
    expect((await http(`${app.url}/c/filler`, { method: 'POST', token: counter, body: Buffer.alloc(85) })).status).toBe(201);
    const put = await http(`${app.url}/1/projects/counter/caches/c/items/n`, { method: 'PUT', token: counter, body: { value: '9'.repeat(15) } });
    expect(put.status).toBe(200);
    const grow = await http(`${app.url}/1/projects/counter/caches/c/items/n/increment`, { method: 'POST', token: counter, body: { amount: 1 } });
    expect(grow.status).toBe(403); // IronCache answers an exceeded quota with 403
    expect(grow.json().msg).toMatch(/quota/);
    const read = await http(`${app.url}/1/projects/counter/caches/c/items/n`, { token: counter });
    expect(read.json().value).toBe('9'.repeat(15));
    const shrink = await http(`${app.url}/1/projects/counter/caches/c/items/n/increment`, { method: 'POST', token: counter, body: { amount: -1 } });
    expect(shrink.json()).toEqual({ msg: 'Added', value: 999999999999998 });
  });

  it('charges a restore to the org quota: one that would exceed it fails cleanly and appends nothing', async () => {
    const restorer = tokenFor({ org: 'restorer', name: 'rita' });
    expect((await http(`${app.url}/r/a`, { method: 'POST', token: restorer, body: Buffer.alloc(60) })).status).toBe(201);
    expect((await http(`${app.url}/cacheName/r/flush`, { method: 'PUT', token: restorer })).status).toBe(202);
    expect((await http(`${app.url}/other/b`, { method: 'POST', token: restorer, body: Buffer.alloc(50) })).status).toBe(201);
    const seqBefore = (await http(`${app.url}/cacheName/r/events?from=1&limit=100`, { token: restorer })).json().events.length;
    // Back to seq 2 (the 60 bytes): with 50 bytes in use that is 110 > 100.
    const refused = await finished(app.url, restorer, await submitTask(app.url, restorer, { resource_title: 'r', action: 'restore', at: 2 }));
    expect(refused).toMatchObject({ task_state: 'FAILURE', reason: expect.stringContaining('QUOTA_EXCEEDED') });
    expect((await http(`${app.url}/cacheName/r/events?from=1&limit=100`, { token: restorer })).json().events.length).toBe(seqBefore);
    expect((await http(`${app.url}/r/a`, { token: restorer })).status).toBe(404);
    // Once room is made, the same restore goes through and its bytes count.
    expect((await http(`${app.url}/other/b`, { method: 'DELETE', token: restorer })).status).toBe(202);
    const restored = await finished(app.url, restorer, await submitTask(app.url, restorer, { resource_title: 'r', action: 'restore', at: 2 }));
    expect(restored).toMatchObject({ task_state: 'SUCCESS', result: { restoredTo: 2 } });
    expect((await http(`${app.url}/r/a`, { token: restorer })).body.length).toBe(60);
    const over = await http(`${app.url}/other/c`, { method: 'POST', token: restorer, body: Buffer.alloc(41) });
    expect(over.json().code).toBe('QUOTA_EXCEEDED');
  });

  it('is not enforced unless ENABLE_ORG_SERVICE_LEVEL_SAAS=true', async () => {
    const open = await startTestApp({ env: { FREE_SERVICE_LEVEL_MAX_BYTES: '10' } });
    try {
      expect((await http(`${open.url}/big/k`, { method: 'POST', token, body: Buffer.alloc(1000) })).status).toBe(201);
    } finally {
      await open.dispose();
    }
  });
});
