import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('native per-cache settings over real HTTP', () => {
  let app: TestApp;
  const clock = new ManualClock();
  const token = tokenFor({ org: 'st' });
  const settingsUrl = (cacheName: string) => `${app.url}/cacheName/${cacheName}/settings`;
  const create = async (cacheName: string) => expect((await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName } })).status).toBe(201);
  const setValue = (cacheName: string, key: string, value: string) => http(`${app.url}/${cacheName}/${key}`, { method: 'POST', token, body: Buffer.from(value) });
  const keysOf = async (cacheName: string) => (await http(`${app.url}/cacheName/${cacheName}/keys`, { token })).json().keys as string[];

  beforeAll(async () => (app = await startTestApp({ clock, env: { MAX_VALUE_BYTES: '1000' } })));
  afterAll(() => app.dispose());

  it('GET gives the defaults of a new cache', async () => {
    await create('s1');
    const got = await http(settingsUrl('s1'), { token });
    expect(got.status).toBe(200);
    expect(got.json()).toEqual({ cacheName: 's1', capacity: 0, ttl: 0, maxValueBytes: 0, cacheNullValue: true });
  });

  it('PUT changes the fields sent and keeps the others; GET shows the result', async () => {
    await create('s2');
    const put = await http(settingsUrl('s2'), { method: 'PUT', token, body: { capacity: 100, ttl: 60 } });
    expect(put.status).toBe(200);
    expect(put.json()).toEqual({ cacheName: 's2', capacity: 100, ttl: 60, maxValueBytes: 0, cacheNullValue: true });
    await http(settingsUrl('s2'), { method: 'PUT', token, body: { cacheNullValue: false } });
    expect((await http(settingsUrl('s2'), { token })).json()).toEqual({ cacheName: 's2', capacity: 100, ttl: 60, maxValueBytes: 0, cacheNullValue: false });
  });

  it('invalid input is 400 {"error":"bad_request","error_description"} naming the field, and changes nothing', async () => {
    await create('s3');
    const cases: Array<[unknown, string]> = [
      [{ capacity: -1 }, 'capacity'],
      [{ capacity: '10' }, 'capacity'],
      [{ capacity: 1.5 }, 'capacity'],
      [{ ttl: -1 }, 'ttl'],
      [{ ttl: 'soon' }, 'ttl'],
      [{ maxValueBytes: 1001 }, 'maxValueBytes'],
      [{ cacheNullValue: 'yes' }, 'cacheNullValue'],
      [{ handlingAction: 'STOP' }, 'handlingAction'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const put = await http(settingsUrl('s3'), { method: 'PUT', token, body });
      expect(put.status).toBe(400);
      const error = put.json();
      expect(error.error).toBe('bad_request');
      expect(error.error_description).toContain(field);
    }
    const notJson = await http(settingsUrl('s3'), { method: 'PUT', token, body: '{', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.json().error).toBe('bad_request');
    expect((await http(settingsUrl('s3'), { token })).json()).toEqual({ cacheName: 's3', capacity: 0, ttl: 0, maxValueBytes: 0, cacheNullValue: true });
  });

  it('a missing cache is 404 not_found; no token is 401 unauthorized_client', async () => {
    const get = await http(settingsUrl('nope'), { token });
    expect(get.status).toBe(404);
    expect(get.json()).toEqual({ error: 'not_found', error_description: expect.stringContaining('nope') });
    expect((await http(settingsUrl('nope'), { method: 'PUT', token, body: { ttl: 5 } })).status).toBe(404);
    const anonymous = await http(settingsUrl('s1'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.json().error).toBe('unauthorized_client');
  });

  it('ttl is the default expiry of values set without one', async () => {
    await create('ttl');
    await http(settingsUrl('ttl'), { method: 'PUT', token, body: { ttl: 30 } });
    await setValue('ttl', 'k', 'v');
    expect((await http(`${app.url}/ttl/k/3600`, { method: 'POST', token, body: Buffer.from('long') })).status).toBe(201);
    await setValue('ttl', 'short', 'v');
    clock.advance(30_001);
    expect((await http(`${app.url}/ttl/short`, { token })).status).toBe(404);
    expect((await http(`${app.url}/ttl/k`, { token })).text).toBe('long');
  });

  it('maxValueBytes refuses larger values; cacheNullValue false refuses empty ones', async () => {
    await create('lim');
    await http(settingsUrl('lim'), { method: 'PUT', token, body: { maxValueBytes: 4, cacheNullValue: false } });
    const tooBig = await setValue('lim', 'k', '12345');
    expect(tooBig.status).toBe(413);
    expect(tooBig.json().code).toBe('VALUE_TOO_LARGE');
    expect((await setValue('lim', 'k', '1234')).status).toBe(201);
    const empty = await setValue('lim', 'e', '');
    expect(empty.status).toBe(400);
    expect(empty.json().code).toBe('EMPTY_VALUE_REJECTED');
    expect((await http(`${app.url}/lim/e`, { token })).status).toBe(404);
  });

  it('lowering the capacity evicts the least recently written keys at once', async () => {
    await create('shrink');
    for (const k of ['a', 'b', 'c', 'd']) await setValue('shrink', k, k);
    await http(settingsUrl('shrink'), { method: 'PUT', token, body: { capacity: 2 } });
    expect(await keysOf('shrink')).toEqual(['c', 'd']);
  });
});

describe('LRU eviction at capacity, and after a restart', () => {
  const token = tokenFor({ org: 'lru' });
  let first: TestApp;
  let second: TestApp | undefined;

  afterAll(async () => {
    await second?.close();
    await first.dispose();
  });

  it('evicts the least recently written key, and keeps the same recency order across a restart', async () => {
    first = await startTestApp();
    const set = (app: TestApp, key: string) => http(`${app.url}/lru/${key}`, { method: 'POST', token, body: Buffer.from(key) });
    const status = async (app: TestApp, key: string) => (await http(`${app.url}/lru/${key}`, { token })).status;
    const keys = async (app: TestApp) => ((await http(`${app.url}/cacheName/lru/keys`, { token })).json().keys as string[]).sort();

    expect((await http(`${first.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'lru' } })).status).toBe(201);
    expect((await http(`${first.url}/cacheName/lru/settings`, { method: 'PUT', token, body: { capacity: 3 } })).status).toBe(200);
    for (const key of ['a', 'b', 'c']) expect((await set(first, key)).status).toBe(201);
    expect((await set(first, 'd')).status).toBe(201); // a is the least recently written
    expect(await status(first, 'a')).toBe(404);
    expect(await keys(first)).toEqual(['b', 'c', 'd']);
    await set(first, 'b'); // rewriting b makes c the least recently written
    await first.close();

    second = await startTestApp({ dataDir: first.dataDir });
    expect((await http(`${second.url}/cacheName/lru/settings`, { token })).json().capacity).toBe(3);
    expect(await keys(second)).toEqual(['b', 'c', 'd']);
    expect((await set(second, 'e')).status).toBe(201);
    expect(await status(second, 'c')).toBe(404);
    expect(await keys(second)).toEqual(['b', 'd', 'e']);
    expect((await http(`${second.url}/lru/b`, { token })).text).toBe('b');
  });
});
