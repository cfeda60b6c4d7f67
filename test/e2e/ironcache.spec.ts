import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** IronCache clients send `Authorization: OAuth <token>`. */
const oauth = (token: string) => ({ authorization: `OAuth ${token}` });

describe('IronCache-compatible API over real HTTP', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'proj1' });
  const base = () => `${app.url}/1/projects/proj1/caches`;
  const iron = (path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    http(`${base()}${path}`, { ...options, headers: { ...oauth(token), ...options.headers } });

  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  describe('items', () => {
    it('PUT stores (creating the cache) and GET returns cache, key, value and cas', async () => {
      const put = await iron('/c1/items/k1', { method: 'PUT', body: { value: 'hello' } });
      expect(put.status).toBe(200);
      expect(put.json()).toEqual({ msg: 'Stored.' });
      const got = await iron('/c1/items/k1');
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toMatch(/^application\/json/);
      const item = got.json();
      expect(item).toEqual({ cache: 'c1', key: 'k1', value: 'hello', cas: expect.any(Number) });
      expect(item.cas).toBeGreaterThan(0);
    });

    it('a numeric value is stored as its decimal text', async () => {
      await iron('/c1/items/num', { method: 'PUT', body: { value: 42 } });
      expect((await iron('/c1/items/num')).json().value).toBe('42');
    });

    it('GET of a missing item is 404 {"msg"}', async () => {
      const got = await iron('/c1/items/nope');
      expect(got.status).toBe(404);
      expect(got.json()).toEqual({ msg: expect.stringMatching(/not found/i) });
    });

    it('add stores a new item and refuses an existing one (409, nothing stored)', async () => {
      expect((await iron('/c2/items/a', { method: 'PUT', body: { value: 'first', add: true } })).status).toBe(200);
      const again = await iron('/c2/items/a', { method: 'PUT', body: { value: 'second', add: true } });
      expect(again.status).toBe(409);
      expect(again.json().msg).toMatch(/already exists/);
      expect((await iron('/c2/items/a')).json().value).toBe('first');
    });

    it('replace refuses a missing item (404, nothing stored) and replaces an existing one', async () => {
      const missing = await iron('/c2/items/r', { method: 'PUT', body: { value: 'x', replace: true } });
      expect(missing.status).toBe(404);
      expect(missing.json()).toHaveProperty('msg');
      expect((await iron('/c2/items/r')).status).toBe(404);
      await iron('/c2/items/r', { method: 'PUT', body: { value: 'one' } });
      expect((await iron('/c2/items/r', { method: 'PUT', body: { value: 'two', replace: true } })).status).toBe(200);
      expect((await iron('/c2/items/r')).json().value).toBe('two');
    });

    it('cas stores only when it matches the cas from a GET; a stale cas is 409 and stores nothing', async () => {
      await iron('/c3/items/k', { method: 'PUT', body: { value: 'v1' } });
      const { cas } = (await iron('/c3/items/k')).json();
      expect((await iron('/c3/items/k', { method: 'PUT', body: { value: 'v2', cas } })).status).toBe(200);
      const stale = await iron('/c3/items/k', { method: 'PUT', body: { value: 'v3', cas } });
      expect(stale.status).toBe(409);
      expect(stale.json().msg).toMatch(/cas/);
      const now = (await iron('/c3/items/k')).json();
      expect(now.value).toBe('v2');
      expect(now.cas).not.toBe(cas);
      expect((await iron('/c3/items/k', { method: 'PUT', body: { value: 'v4', cas: String(now.cas) } })).status).toBe(200);
    });

    it('cas on a missing item is 404 and stores nothing', async () => {
      const put = await iron('/c3/items/none', { method: 'PUT', body: { value: 'v', cas: 5 } });
      expect(put.status).toBe(404);
      expect((await iron('/c3/items/none')).status).toBe(404);
    });

    it('DELETE removes an item; deleting it again is 404', async () => {
      await iron('/c4/items/d', { method: 'PUT', body: { value: 'x' } });
      const del = await iron('/c4/items/d', { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(del.json()).toEqual({ msg: 'Deleted.' });
      expect((await iron('/c4/items/d')).status).toBe(404);
      expect((await iron('/c4/items/d', { method: 'DELETE' })).status).toBe(404);
    });

    it('expires_in is accepted up to 2,592,000 s; more is 400', async () => {
      expect((await iron('/c4/items/e', { method: 'PUT', body: { value: 'x', expires_in: 2_592_000 } })).status).toBe(200);
      const tooLong = await iron('/c4/items/e', { method: 'PUT', body: { value: 'x', expires_in: 2_592_001 } });
      expect(tooLong.status).toBe(400);
      expect(tooLong.json().msg).toMatch(/expires_in/);
    });

    it('a missing value is 406; wrong types, bad JSON and contradictory flags are 400', async () => {
      const missing = await iron('/c5/items/k', { method: 'PUT', body: { expires_in: 10 } });
      expect(missing.status).toBe(406);
      expect(missing.json().msg).toMatch(/value/);
      for (const body of [{ value: { a: 1 } }, { value: 'x', add: 'yes' }, { value: 'x', add: true, replace: true }, { value: 'x', cas: 'abc' }, [1]]) {
        const bad = await iron('/c5/items/k', { method: 'PUT', body });
        expect(bad.status).toBe(400);
        expect(bad.json()).toHaveProperty('msg');
      }
      const notJson = await iron('/c5/items/k', { method: 'PUT', body: '{nope', headers: { 'content-type': 'application/json' } });
      expect(notJson.status).toBe(400);
      expect(notJson.json()).toHaveProperty('msg');
      expect((await iron('/c5/items/k')).status).toBe(404);
    });
  });

  describe('increment', () => {
    it('starts a missing item at 0, adds, and decrements with a negative amount', async () => {
      const first = await iron('/n1/items/counter/increment', { method: 'POST', body: { amount: 10 } });
      expect(first.status).toBe(200);
      expect(first.json()).toEqual({ msg: 'Added', value: 10 });
      expect((await iron('/n1/items/counter/increment', { method: 'POST', body: { amount: -3 } })).json()).toEqual({ msg: 'Added', value: 7 });
      expect((await iron('/n1/items/counter')).json().value).toBe('7');
    });

    it('a non-numeric item is 400 and unchanged', async () => {
      await iron('/n1/items/text', { method: 'PUT', body: { value: 'abc' } });
      const inc = await iron('/n1/items/text/increment', { method: 'POST', body: { amount: 1 } });
      expect(inc.status).toBe(400);
      expect(inc.json().msg).toMatch(/not an integer/i);
      expect((await iron('/n1/items/text')).json().value).toBe('abc');
    });

    it('a missing amount is 406; a fractional one is 400', async () => {
      expect((await iron('/n1/items/counter/increment', { method: 'POST', body: {} })).status).toBe(406);
      expect((await iron('/n1/items/counter/increment', { method: 'POST', body: { amount: 1.5 } })).status).toBe(400);
    });

    it('100 concurrent increments of one key end at exactly 100', async () => {
      const replies = await Promise.all(
        Array.from({ length: 100 }, () => iron('/n2/items/hits/increment', { method: 'POST', body: { amount: 1 } })),
      );
      expect(replies.every((r) => r.status === 200)).toBe(true);
      const values = replies.map((r) => r.json().value).sort((a, b) => a - b);
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect((await iron('/n2/items/hits')).json().value).toBe('100');
    });
  });

  describe('caches', () => {
    it('GET cache info gives the number of live items; a missing cache is 404', async () => {
      for (const k of ['a', 'b', 'c']) await iron(`/info/items/${k}`, { method: 'PUT', body: { value: k } });
      const info = await iron('/info');
      expect(info.status).toBe(200);
      expect(info.json()).toEqual({ size: 3 });
      const missing = await iron('/no-such-cache');
      expect(missing.status).toBe(404);
      expect(missing.json()).toHaveProperty('msg');
    });

    it('clear empties the cache but keeps it; clearing a missing cache is 404', async () => {
      for (const k of ['a', 'b']) await iron(`/clr/items/${k}`, { method: 'PUT', body: { value: k } });
      const clear = await iron('/clr/clear', { method: 'POST' });
      expect(clear.status).toBe(200);
      expect(clear.json()).toEqual({ msg: 'Cleared.' });
      expect((await iron('/clr')).json()).toEqual({ size: 0 });
      expect((await iron('/clr/items/a')).status).toBe(404);
      expect((await iron('/no-such-cache/clear', { method: 'POST' })).status).toBe(404);
    });

    it('DELETE removes the cache; then it is 404 and absent from the list', async () => {
      await iron('/gone/items/a', { method: 'PUT', body: { value: 'a' } });
      const del = await iron('/gone', { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(del.json()).toEqual({ msg: 'Deleted.' });
      expect((await iron('/gone')).status).toBe(404);
      expect((await iron('/gone', { method: 'DELETE' })).status).toBe(404);
      const names = (await iron('?per_page=100')).json().map((c: { name: string }) => c.name);
      expect(names).not.toContain('gone');
    });

    it('lists caches as {project_id, name}, paged with page (0-based) and per_page', async () => {
      const other = tokenFor({ org: 'paged' });
      const names = Array.from({ length: 5 }, (_, i) => `p${i}`);
      for (const name of names) {
        await http(`${app.url}/1/projects/paged/caches/${name}/items/k`, { method: 'PUT', body: { value: 'v' }, headers: oauth(other) });
      }
      const list = (query: string) => http(`${app.url}/1/projects/paged/caches${query}`, { headers: oauth(other) });
      const all = await list('');
      expect(all.status).toBe(200);
      expect(all.json()).toEqual(names.map((name) => ({ project_id: 'paged', name })));
      expect((await list('?per_page=2')).json().map((c: { name: string }) => c.name)).toEqual(['p0', 'p1']);
      expect((await list('?per_page=2&page=2')).json().map((c: { name: string }) => c.name)).toEqual(['p4']);
      expect((await list('?per_page=2&page=3')).json()).toStrictEqual([]);
      for (const bad of ['?per_page=101', '?per_page=0', '?page=-1', '?page=x']) {
        const r = await list(bad);
        expect(r.status).toBe(400);
        expect(r.json()).toHaveProperty('msg');
      }
    });
  });

  describe('auth and errors', () => {
    it('accepts the token as ?oauth=', async () => {
      await iron('/auth/items/k', { method: 'PUT', body: { value: 'v' } });
      const got = await http(`${base()}/auth/items/k?oauth=${token}`);
      expect(got.status).toBe(200);
      expect(got.json().value).toBe('v');
    });

    it('no token, a bad token or a forged token is 401 {"msg"}', async () => {
      for (const headers of [{}, { authorization: 'OAuth not-a-jwt' }, oauth(tokenFor({ org: 'proj1' }, { secret: 'another-secret-of-enough-length!!' }))]) {
        const r = await http(`${base()}/auth/items/k`, { headers });
        expect(r.status).toBe(401);
        expect(r.json()).toEqual({ msg: expect.any(String) });
      }
    });

    it("another project than the token's org is 403 {\"msg\"} and reveals nothing", async () => {
      const r = await http(`${app.url}/1/projects/someone-else/caches/auth/items/k`, { headers: oauth(token) });
      expect(r.status).toBe(403);
      expect(r.json()).toEqual({ msg: expect.any(String) });
      const put = await http(`${app.url}/1/projects/someone-else/caches/x/items/k`, { method: 'PUT', body: { value: 'v' }, headers: oauth(token) });
      expect(put.status).toBe(403);
    });

    it('an unsupported verb is 405 {"msg"} with Allow', async () => {
      const r = await iron('/c1/items/k1', { method: 'POST', body: { value: 'x' } });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, PUT, DELETE');
      expect(r.json()).toEqual({ msg: expect.any(String) });
      expect((await iron('', { method: 'DELETE' })).status).toBe(405);
      expect((await iron('/c1/clear', { method: 'GET' })).status).toBe(405);
      expect((await iron('/c1/items/k1/increment', { method: 'PUT' })).status).toBe(405);
    });

    it('an unknown path under /1/projects is 404 {"msg"}', async () => {
      const r = await iron('/c1/items/k1/nothing/here');
      expect(r.status).toBe(404);
      expect(r.json()).toHaveProperty('msg');
    });
  });
});
