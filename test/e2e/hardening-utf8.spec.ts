import { Journal } from '../../src/journal/journal';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass (lone surrogates break the journal id): a string that cannot round-trip
 * through UTF-8 is refused wherever it would name or be stored (org and name claims, cache
 * names, keys, descriptions, IronCache values) in every family, and nothing is written.
 * Only JSON bodies and token claims can carry one: paths and query strings are bytes.
 */
describe('strings that cannot round-trip through UTF-8 are refused', () => {
  let app: TestApp;
  let journal: Journal;
  const token = tokenFor({ org: 'acme' });
  beforeAll(async () => {
    app = await startTestApp();
    journal = app.app.get(Journal);
    expect((await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'ok', key: 'k', value: 'MQ==' } })).status).toBe(201);
  });
  afterAll(() => app.dispose());

  const refused = async (send: () => Promise<{ status: number; text: string }>, status = 400) => {
    await journal.whenIdle();
    const before = journal.highestOffset;
    const answer = await send();
    expect({ status: answer.status, text: answer.text }).toEqual({ status, text: expect.stringMatching(/well-formed/) });
    await journal.whenIdle();
    expect(journal.highestOffset).toBe(before);
  };

  it.each(['\ud800n', '\udc00n', 'a\udfff', '\ud83d'])('native: cache name or key %j is 400 and nothing is written', async (bad) => {
    await refused(() => http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: bad, key: 'k', value: 'MQ==' } }));
    await refused(() => http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'ok', key: bad, value: 'MQ==' } }));
    await refused(() => http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: bad } }));
    await refused(() => http(`${app.url}/cacheName`, { method: 'PUT', token, body: { cacheName: 'ok', description: `d${bad}` } }));
    await refused(() => http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests: [{ cacheName: 'ok', key: 'fine', value: 'MQ==' }, { cacheName: 'ok', key: bad, value: 'MQ==' }] } }));
    await refused(() => http(`${app.url}/batch/get`, { method: 'POST', token, body: { getCachedBatch: [{ cacheName: bad, key: 'k' }] } }));
    await refused(() => http(`${app.url}/batch`, { method: 'DELETE', token, body: { getCachedBatch: [{ cacheName: 'ok', key: bad }] } }));
    await refused(() => http(`${app.url}/api/v1/cache/refresh`, { method: 'POST', token, body: { resource_title: bad, action: 'snapshot' } }));
  });

  it('IronCache: a value that cannot round-trip is 400 {"msg"}, nothing stored', async () => {
    await refused(() => http(`${app.url}/1/projects/acme/caches/ok/items/k`, { method: 'PUT', body: { value: 'x\ud800' }, headers: { authorization: `OAuth ${token}` } }));
  });

  it('the two names that used to share one journal id stay apart: both refused, the good one unchanged', async () => {
    expect((await http(`${app.url}/ok/k`, { token })).text).toBe('1');
    expect((await http(`${app.url}/cacheName/list`, { token })).json()).toEqual([{ cacheName: 'ok', description: '' }]);
  });

  it.each([
    ['org', { org: 'ac\ud800me' }],
    ['name', { org: 'acme', name: 'Ann\udc00' }],
  ])('a token whose %s claim cannot round-trip is 401 in every family', async (_claim, claims) => {
    const bad = tokenFor(claims);
    await refused(() => http(`${app.url}/cacheName/list`, { token: bad }), 401);
    await refused(() => http(`${app.url}/1/projects/acme/caches`, { headers: { authorization: `OAuth ${bad}` } }), 401);
    await refused(() => http(`${app.url}/cache/ok?key=k&token=${bad}`), 401);
  });

  it('well-formed astral characters and CJK are accepted and read back', async () => {
    const name = '缓存💾';
    const key = '鍵🔑';
    expect((await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: name, key, value: 'aGk=' } })).status).toBe(201);
    expect((await http(`${app.url}/${encodeURIComponent(name)}/${encodeURIComponent(key)}`, { token })).text).toBe('hi');
  });
});
