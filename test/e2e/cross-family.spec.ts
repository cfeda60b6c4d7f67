import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('one cache, three API families: a key written through one is read through the others', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'xorg' });
  const native = (path: string, options: { method?: string; body?: unknown } = {}) => http(`${app.url}${path}`, { ...options, token });
  const momento = (query: string, options: { method?: string; body?: unknown } = {}) => http(`${app.url}/cache/shared?${query}`, { ...options, headers: { authorization: token } });
  const iron = (path: string, options: { method?: string; body?: unknown } = {}) =>
    http(`${app.url}/1/projects/xorg/caches/shared${path}`, { ...options, headers: { authorization: `OAuth ${token}` } });

  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it('native write → Momento and IronCache reads', async () => {
    expect((await native('/shared/fromNative', { method: 'POST', body: Buffer.from('hello native') })).status).toBe(201);
    const viaMomento = await momento('key=fromNative');
    expect(viaMomento.status).toBe(200);
    expect(viaMomento.text).toBe('hello native');
    const viaIron = await iron('/items/fromNative');
    expect(viaIron.status).toBe(200);
    expect(viaIron.json()).toMatchObject({ cache: 'shared', key: 'fromNative', value: 'hello native' });
  });

  it('Momento write → native and IronCache reads', async () => {
    expect((await momento('key=fromMomento&ttl_seconds=600', { method: 'PUT', body: Buffer.from('hello momento') })).status).toBe(204);
    expect((await native('/shared/fromMomento')).text).toBe('hello momento');
    expect((await native('/get/shared/fromMomento')).json()).toEqual({
      cacheName: 'shared',
      key: 'fromMomento',
      success: true,
      value: Buffer.from('hello momento').toString('base64'),
      expiresAt: expect.any(String), // set with a TTL
    });
    expect((await iron('/items/fromMomento')).json().value).toBe('hello momento');
  });

  it('IronCache write and increment → native and Momento reads', async () => {
    expect((await iron('/items/fromIron', { method: 'PUT', body: { value: 'hello iron' } })).status).toBe(200);
    expect((await native('/shared/fromIron')).text).toBe('hello iron');
    expect((await momento('key=fromIron')).text).toBe('hello iron');
    await iron('/items/count/increment', { method: 'POST', body: { amount: 41 } });
    await iron('/items/count/increment', { method: 'POST', body: { amount: 1 } });
    expect((await momento('key=count')).text).toBe('42');
    expect((await native('/shared/count')).text).toBe('42');
  });

  it('a native write of a decimal can be incremented through IronCache, and the cas changes with every write from any family', async () => {
    await native('/shared/n', { method: 'POST', body: Buffer.from('10') });
    const before = (await iron('/items/n')).json().cas;
    expect((await iron('/items/n/increment', { method: 'POST', body: { amount: 5 } })).json()).toEqual({ msg: 'Added', value: 15 });
    await momento('key=n&ttl_seconds=60', { method: 'PUT', body: Buffer.from('20') });
    const after = (await iron('/items/n')).json();
    expect(after.value).toBe('20');
    expect(after.cas).toBeGreaterThan(before);
    expect((await iron('/items/n', { method: 'PUT', body: { value: 'x', cas: before } })).status).toBe(409);
  });

  it('deletes are seen by every family', async () => {
    await native('/shared/gone', { method: 'POST', body: Buffer.from('v') });
    expect((await momento('key=gone', { method: 'DELETE' })).status).toBe(204);
    expect((await native('/shared/gone')).status).toBe(404);
    expect((await iron('/items/gone')).status).toBe(404);
    await iron('/items/gone2', { method: 'PUT', body: { value: 'v' } });
    expect((await iron('/items/gone2', { method: 'DELETE' })).status).toBe(200);
    expect((await momento('key=gone2')).text).toBe('Key Not Found');
  });

  it('the IronCache cache list and the native list name the same caches', async () => {
    const ironNames = (await http(`${app.url}/1/projects/xorg/caches`, { headers: { authorization: `OAuth ${token}` } })).json().map((c: { name: string }) => c.name);
    const nativeNames = (await native('/cacheName/list')).json().map((c: { cacheName: string }) => c.cacheName);
    expect(ironNames).toEqual(['shared']);
    expect(nativeNames).toEqual(['shared']);
  });
});

describe('IronCache cas after a restart', () => {
  const token = tokenFor({ org: 'casorg' });
  const iron = (app: TestApp, path: string, options: { method?: string; body?: unknown } = {}) =>
    http(`${app.url}/1/projects/casorg/caches/c${path}`, { ...options, headers: { authorization: `OAuth ${token}` } });
  let first: TestApp;
  let second: TestApp | undefined;

  afterAll(async () => {
    await second?.close();
    await first.dispose();
  });

  it('a cas read before the restart still matches after it, and a stale one still does not', async () => {
    first = await startTestApp();
    await iron(first, '/items/k', { method: 'PUT', body: { value: 'v1' } });
    const stale = (await iron(first, '/items/k')).json().cas;
    await iron(first, '/items/k', { method: 'PUT', body: { value: 'v2' } });
    const { cas } = (await iron(first, '/items/k')).json();
    await first.close();

    second = await startTestApp({ dataDir: first.dataDir });
    const after = (await iron(second, '/items/k')).json();
    expect(after).toEqual({ cache: 'c', key: 'k', value: 'v2', cas });
    expect((await iron(second, '/items/k', { method: 'PUT', body: { value: 'v3', cas: stale } })).status).toBe(409);
    expect((await iron(second, '/items/k', { method: 'PUT', body: { value: 'v3', cas } })).status).toBe(200);
    expect((await iron(second, '/items/k')).json().value).toBe('v3');
  });
});
