import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * `?minSeq=` (and `X-Cachelog-Min-Seq`) is honoured or refused on every read route of every
 * family, never silently ignored: routes that read one cache wait for that seq (or answer 400
 * `MIN_SEQ_NOT_REACHED`); routes that read no single cache (listings, tasks, batches) refuse it
 * with a 400 naming it. Before, `/get/{c}/{k}` and `/cacheName/{c}/keys` (whose contracts
 * dropped the query parameter) and the IronCache and Momento reads ignored it.
 * And `If-None-Match: *` follows RFC 9110: a key that does not exist is no match (no 304).
 */
describe('minSeq on every read route', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'ms', name: 'w' });
  let seq = 0;
  beforeAll(async () => {
    app = await startTestApp();
    expect((await http(`${app.url}/c/k`, { method: 'POST', token, body: Buffer.from('v') })).status).toBe(201);
    seq = (await http(`${app.url}/cacheName/c/events`, { token })).json().highestSeq;
  });
  afterAll(() => app.dispose());

  const get = (path: string, query: string, headers: Record<string, string> = {}) => http(`${app.url}${path}${path.includes('?') ? '&' : '?'}${query}`, { token, headers });

  const oneCache = [
    '/c/k',
    '/get/c/k',
    '/cacheName/c',
    '/cacheName/c/keys',
    '/cacheName/c/settings',
    '/cacheName/c/events',
    '/1/projects/ms/caches/c',
    '/1/projects/ms/caches/c/items/k',
    '/cache/c?key=k',
  ];

  it.each(oneCache)('%s: a seq the cache has reached is served, one it has not is 400 MIN_SEQ_NOT_REACHED, a bad one 400', async (path) => {
    expect((await get(path, `minSeq=${seq}`)).status).toBe(200);
    const ahead = await get(path, 'minSeq=999');
    expect(ahead.status).toBe(400);
    expect(ahead.text).toMatch(/minSeq 999/);
    const bad = await get(path, 'minSeq=soon');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/minSeq must be a whole number/);
    expect((await get(path, 'x=1', { 'x-cachelog-min-seq': '999' })).status).toBe(400);
  });

  it('the event stream waits for minSeq too (400 before any event when the cache is behind)', async () => {
    const ahead = await get('/cacheName/c/events/stream', 'minSeq=999');
    expect(ahead.status).toBe(400);
    expect(ahead.json().code).toBe('MIN_SEQ_NOT_REACHED');
  });

  it.each([
    ['GET', '/cacheName/list'],
    ['GET', '/1/projects/ms/caches'],
    ['GET', '/api/v1/cache'],
    ['GET', '/api/v1/cache/state?task_id=nope'],
  ])('%s %s reads no single cache: minSeq is refused with a clear 400, not ignored', async (_method, path) => {
    const refused = await get(path, `minSeq=${seq}`);
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/minSeq/);
    expect((await get(path, 'x=1', { 'x-cachelog-min-seq': String(seq) })).status).toBe(400);
  });

  it('POST /batch/get (a read of many caches) refuses minSeq too', async () => {
    const refused = await http(`${app.url}/batch/get?minSeq=${seq}`, { method: 'POST', token, body: { items: [{ cacheName: 'c', key: 'k' }] } });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/minSeq/) });
  });
});

describe('If-None-Match: * (RFC 9110: matches only a current representation)', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'inm', name: 'w' });
  beforeAll(async () => {
    app = await startTestApp();
    expect((await http(`${app.url}/c/k`, { method: 'POST', token, body: Buffer.from('v') })).status).toBe(201);
  });
  afterAll(() => app.dispose());
  const star = { 'if-none-match': '*' };

  it('a key that does not exist is no match: GET /{c}/{k} answers 404, not 304', async () => {
    expect((await http(`${app.url}/c/missing`, { token, headers: star })).status).toBe(404);
    expect((await http(`${app.url}/c/missing?at=1`, { token, headers: star })).status).toBe(404);
  });

  it('the JSON read of a missing key answers its miss (200, success false), not 304; at a point in time too', async () => {
    for (const path of ['/get/c/missing', '/get/c/missing?at=1', '/get/c/k?at=1']) {
      const miss = await http(`${app.url}${path}`, { token, headers: star });
      expect({ path, status: miss.status }).toEqual({ path, status: 200 });
      expect(miss.json()).toMatchObject({ success: false });
    }
  });

  it('an existing key, key listing and cache still match: 304', async () => {
    for (const path of ['/c/k', '/get/c/k', '/cacheName/c/keys', '/cacheName/c', '/c/k?at=2', '/get/c/k?at=2']) {
      expect({ path, status: (await http(`${app.url}${path}`, { token, headers: star })).status }).toEqual({ path, status: 304 });
    }
  });

  it('a tag list naming the current version still matches', async () => {
    const etag = (await http(`${app.url}/c/k`, { token })).headers.get('etag')!;
    expect((await http(`${app.url}/c/missing`, { token, headers: { 'if-none-match': etag } })).status).toBe(304);
  });
});
