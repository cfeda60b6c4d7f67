import { CacheGateway } from '../../src/core/cache-gateway';
import { requestContext } from '../../src/core/request-context';
import { Reply } from '../../src/entities/cache-entity';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * MAX_CACHES_PER_ORG counts a name once, whether its creation is on its way, decided (counted
 * live) but not answered yet, or live: creations fed while others are being journaled are not
 * refused below the limit.
 */
describe('caches per org: a creation in flight is counted once', () => {
  let app: TestApp;
  afterEach(() => app?.dispose());

  it('creates every one of 200 new caches asked in slices while earlier ones are journaled, and refuses the 201st', async () => {
    app = await startTestApp({ env: { MAX_CACHES_PER_ORG: '200' } });
    const gateway = app.app.get(CacheGateway);
    const ctx = requestContext({ org: 'acme', name: 'alice', serviceLevel: 'free' }, 'native');
    const set = () => ({ type: 'SetValue' as const, key: 'k', value: Buffer.from('v'), by: 'alice', device: null });
    // Ten names per turn of the event loop: later slices are admitted while earlier slices'
    // creations are decided and their group is being written.
    const replies: Array<Promise<Reply>> = [];
    for (let slice = 0; slice < 20; slice++) {
      for (let i = 0; i < 10; i++) replies.push(gateway.ask(ctx, `c-${slice}-${i}`, set()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const answers = await Promise.all(replies);
    const refused = answers.filter((reply) => !reply.ok);
    expect(refused).toStrictEqual([]);
    expect(await gateway.cacheNames(ctx)).toHaveLength(200);
    const over = await gateway.ask(ctx, 'c-201', set());
    expect(over).toEqual({ ok: false, error: expect.objectContaining({ code: 'CACHE_LIMIT_REACHED' }) });
  });

  it('over HTTP: concurrent batches creating 200 new caches in all create every one; the 201st is refused', async () => {
    app = await startTestApp({ env: { MAX_CACHES_PER_ORG: '200' } });
    const acme = tokenFor({ org: 'acme', name: 'alice' });
    const batch = (from: number, count: number) =>
      http(`${app.url}/batch`, {
        method: 'POST',
        token: acme,
        body: { cacheRequests: Array.from({ length: count }, (_, i) => ({ cacheName: `n-${from + i}`, key: 'k', value: b64('v') })) },
      });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, b) => batch(b * 25, 25)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.json().results.filter((r: { success: boolean }) => !r.success)).toStrictEqual([]);
    }
    const names = (await http(`${app.url}/cacheName/list`, { token: acme })).json();
    expect(names).toHaveLength(200);
    const over = await http(`${app.url}/cacheName`, { method: 'POST', token: acme, body: { cacheName: 'n-200', description: 'd' } });
    expect(over.json().code).toBe('CACHE_LIMIT_REACHED');
  });

  it('after a restart, one batch over existing caches (not loaded) and new ones creates every new one up to the limit', async () => {
    app = await startTestApp({ env: { MAX_CACHES_PER_ORG: '200' } });
    const acme = tokenFor({ org: 'acme', name: 'alice' });
    const batch = (names: string[]) => http(`${app.url}/batch`, { method: 'POST', token: acme, body: { cacheRequests: names.map((cacheName) => ({ cacheName, key: 'k', value: b64('v') })) } });
    const existing = Array.from({ length: 150 }, (_, i) => `old-${i}`);
    expect((await batch(existing)).json().complete).toBe(true);
    const dir = app.dataDir;
    await app.close();
    app = await startTestApp({ dataDir: dir, env: { MAX_CACHES_PER_ORG: '200' } });
    // One write loads the org's count (150); then the existing names are on their way and live
    // at once: counted once, 50 new ones fit.
    expect((await http(`${app.url}/old-0/k`, { method: 'POST', token: acme, body: Buffer.from('w') })).status).toBe(201);
    const fresh = Array.from({ length: 51 }, (_, i) => `new-${i}`);
    const answer = (await batch([...existing, ...fresh])).json();
    const refused = answer.results.filter((r: { success: boolean }) => !r.success).map((r: { cacheName: string }) => r.cacheName);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^new-/);
    expect((await http(`${app.url}/cacheName/list`, { token: acme })).json()).toHaveLength(200);
  });
});
