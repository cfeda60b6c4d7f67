import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('tenancy: the org claim is a wall', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  const acme = tokenFor({ org: 'acme' });
  const evil = tokenFor({ org: 'evil' });

  it('another org cannot read, list, delete or flush a cache of the same name', async () => {
    await http(`${app.url}/shared/secret`, { method: 'POST', token: acme, body: Buffer.from('acme data') });
    expect((await http(`${app.url}/shared/secret`, { token: evil })).status).toBe(404);
    expect((await http(`${app.url}/get/shared/secret`, { token: evil })).json().success).toBe(false);
    expect((await http(`${app.url}/cacheName/shared`, { token: evil })).status).toBe(400);
    expect((await http(`${app.url}/cacheName/shared/keys`, { token: evil })).status).toBe(400);
    expect(await http(`${app.url}/cacheName/list`, { token: evil }).then((r) => r.json())).toStrictEqual([]);
    expect((await http(`${app.url}/cacheName/shared`, { method: 'DELETE', token: evil })).status).toBe(400);
    expect((await http(`${app.url}/cacheName/shared/flush`, { method: 'PUT', token: evil })).status).toBe(400);
    const batch = await http(`${app.url}/batch/get`, { method: 'POST', token: evil, body: { getCachedBatch: [{ cacheName: 'shared', key: 'secret' }] } });
    expect(batch.json().results[0].success).toBe(false);

    // The other org's writes go to its own cache of the same name.
    await http(`${app.url}/shared/secret`, { method: 'POST', token: evil, body: Buffer.from('evil data') });
    expect((await http(`${app.url}/shared/secret`, { token: acme })).text).toBe('acme data');
    expect((await http(`${app.url}/shared/secret`, { token: evil })).text).toBe('evil data');
  });

  it('ids that would collide by concatenation stay apart', async () => {
    // org "ab" + cache "c" vs org "a" + cache "bc"; and cache "x" + key "yz" vs cache "xy" + key "z".
    const ab = tokenFor({ org: 'ab' });
    const a = tokenFor({ org: 'a' });
    await http(`${app.url}/c/k`, { method: 'POST', token: ab, body: Buffer.from('ab|c') });
    await http(`${app.url}/bc/k`, { method: 'POST', token: a, body: Buffer.from('a|bc') });
    expect((await http(`${app.url}/c/k`, { token: ab })).text).toBe('ab|c');
    expect((await http(`${app.url}/bc/k`, { token: a })).text).toBe('a|bc');
    expect((await http(`${app.url}/bc/k`, { token: ab })).status).toBe(404);
    expect((await http(`${app.url}/c/k`, { token: a })).status).toBe(404);

    await http(`${app.url}/x/yz`, { method: 'POST', token: a, body: Buffer.from('x|yz') });
    await http(`${app.url}/xy/z`, { method: 'POST', token: a, body: Buffer.from('xy|z') });
    expect((await http(`${app.url}/cacheName/x/keys`, { token: a })).json().keys).toEqual(['yz']);
    expect((await http(`${app.url}/cacheName/xy/keys`, { token: a })).json().keys).toEqual(['z']);
    expect((await http(`${app.url}/cacheName/list`, { token: ab })).json()).toEqual([{ cacheName: 'c', description: '' }]);
  });

  it('responses name the cache as the client did, never org-prefixed', async () => {
    const res = await http(`${app.url}/batch`, { method: 'DELETE', token: acme, body: { getCachedBatch: [{ cacheName: 'shared', key: 'secret' }] } });
    expect(res.json().cacheDeleteResponses[0].cacheName).toBe('shared');
  });
});
