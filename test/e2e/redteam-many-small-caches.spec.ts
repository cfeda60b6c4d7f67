import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Red-team pass after the hardening pass (memory per cache): every cache that held a value allocated a
 * full 1 MiB slab for its values, so one `POST /batch` over 10,000 new names (each with a
 * 1-byte value) made the process hold 10 GB of buffers; the GC pauses it caused stalled
 * another org's GET for 18 s. Slabs now start at 4 KiB and grow with the cache.
 */
describe('red team: one batch over many new caches holds memory by what they store', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'many-caches' });
  const bystander = tokenFor({ org: 'bystander' });
  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } });
    expect((await http(`${app.url}/mine/k`, { method: 'POST', token: bystander, body: Buffer.from('mine') })).status).toBe(201);
  });
  afterAll(() => app.dispose());

  it('10,000 one-byte caches add far less than a megabyte of buffers each, and another org is answered', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const cacheRequests = Array.from({ length: 10_000 }, (_, i) => ({ cacheName: `c${i}`, key: 'k', value: 'YQ==' }));
    const attack = http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests } });
    const started = Date.now();
    expect((await http(`${app.url}/mine/k`, { token: bystander })).text).toBe('mine');
    expect(Date.now() - started).toBeLessThan(5000);
    const answer = await attack;
    expect(answer.status).toBe(200);
    expect(answer.json().results.every((r: { success: boolean }) => r.success)).toBe(true);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(512 * 1024 * 1024);
    expect((await http(`${app.url}/get/c9999/k`, { token })).json().value).toBe('YQ==');
  }, 120_000);
});
