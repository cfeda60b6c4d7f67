import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Every write of the native API answers `ETag: "v<seq>"`, the cache's seq once the write is
 * applied, so that a read on any node can ask for it with `minSeq` (read-your-writes). Only
 * `POST /{c}/{k}` did; `/{c}/{k}/{ttl}`, `/set` and the rest answered no ETag.
 */
describe('every native write answers the written cache\'s ETag', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'write-tags' });
  const seqOf = async (cacheName: string) => {
    const events = (await http(`${app.url}/cacheName/${cacheName}/events?limit=1000`, { token })).json() as { events: Array<{ seq: number }> };
    return Math.max(0, ...events.events.map((event) => event.seq));
  };
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.dispose());

  const writes: Array<[string, string, string, unknown]> = [
    ['create a cache', 'POST', '/cacheName', { cacheName: 'tagged', description: 'd' }],
    ['change its description', 'PUT', '/cacheName', { cacheName: 'tagged', description: 'e' }],
    ['a binary value', 'POST', '/tagged/k1', Buffer.from('v1')],
    ['a binary value with a TTL', 'POST', '/tagged/k2/60', Buffer.from('v2')],
    ['a JSON value', 'POST', '/set', { cacheName: 'tagged', key: 'k3', value: Buffer.from('v3').toString('base64') }],
    ['a batch over one cache', 'POST', '/batch', { cacheRequests: [{ cacheName: 'tagged', key: 'k4', value: 'djQ=' }, { cacheName: 'tagged', key: 'k5', value: 'djU=' }] }],
    ['a batch delete over one cache', 'DELETE', '/batch', { getCachedBatch: [{ cacheName: 'tagged', key: 'k5' }] }],
    ['a key delete', 'DELETE', '/tagged/k4', undefined],
    ['its settings', 'PUT', '/cacheName/tagged/settings', { capacity: 100 }],
    ['a flush', 'PUT', '/cacheName/tagged/flush', undefined],
  ];

  it.each(writes)('%s (%s %s) answers ETag "v<seq>" of the cache after it, and minSeq of that tag is served', async (_what, method, path, body) => {
    const response = await http(`${app.url}${path}`, { method, token, body: body as never });
    expect(response.status).toBeLessThan(300);
    const seq = await seqOf('tagged');
    expect(response.headers.get('etag')).toBe(`"v${seq}"`);
    const read = await http(`${app.url}/cacheName/tagged/keys?minSeq=${seq}`, { token });
    expect(read.status).toBe(200);
  });

  it('a batch over two caches has no one seq: no ETag', async () => {
    await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'other' } });
    const response = await http(`${app.url}/batch`, {
      method: 'POST',
      token,
      body: { cacheRequests: [{ cacheName: 'tagged', key: 'a', value: 'YQ==' }, { cacheName: 'other', key: 'b', value: 'Yg==' }] },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
  });

  it('a refused write carries no ETag', async () => {
    const response = await http(`${app.url}/cacheName/tagged/settings`, { method: 'PUT', token, body: { capacity: -1 } });
    expect(response.status).toBe(400);
    expect(response.headers.get('etag')).toBeNull();
  });

  it('deleting the cache answers the seq of its deletion', async () => {
    const response = await http(`${app.url}/cacheName/other`, { method: 'DELETE', token });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('etag')).toMatch(/^"v\d+"$/);
  });
});
