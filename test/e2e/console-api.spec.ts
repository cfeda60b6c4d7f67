import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The API the console runs on: a key scan by pattern with a cursor, a
 * cache's key count and value bytes without listing its keys, a key's expiry on reads, and
 * the org's live figures — behind the org wall.
 */
describe('console API: key scan, cache figures, expiry on reads, org figures', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'scan-org', name: 'Ann' });
  const url = (path: string) => `${app.url}${path}`;
  const set = (cache: string, key: string, value = 'v', ttlSeconds?: number) =>
    http(url(`/${encodeURIComponent(cache)}/${encodeURIComponent(key)}${ttlSeconds === undefined ? '' : `/${ttlSeconds}`}`), { method: 'POST', token, body: Buffer.from(value) });
  const del = (cache: string, key: string, as = token) => http(url(`/${encodeURIComponent(cache)}/${encodeURIComponent(key)}`), { method: 'DELETE', token: as });
  const page = (cache: string, query: Record<string, string>, as = token) => http(url(`/cacheName/${encodeURIComponent(cache)}/keys?${new URLSearchParams(query)}`), { token: as });

  /** Every page of a scan until cursor "0"; the keys in the order the pages gave them. */
  async function scanAll(cache: string, query: Record<string, string> = {}): Promise<{ keys: string[]; pages: number }> {
    const keys: string[] = [];
    let cursor = '0';
    let pages = 0;
    do {
      const res = await page(cache, { ...query, cursor });
      expect(res.status).toBe(200);
      const body = res.json();
      keys.push(...body.keys);
      cursor = body.cursor;
      pages++;
    } while (cursor !== '0');
    return { keys, pages };
  }

  beforeAll(async () => (app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } })));
  afterAll(() => app.dispose());

  describe('GET /cacheName/{c}/keys?cursor=&match=&count=', () => {
    const keys = ['user:1', 'user:2', 'user:10', 'user:a', 'usex', 'a*b', 'a?b', 'a[b', 'a\\b', 'abc', 'hello', 'hallo', 'hxllo', 'héllo', 'x'];

    beforeAll(async () => {
      for (const key of keys) expect((await set('patterns', key)).status).toBe(201);
    });

    const sorted = (list: string[]) => [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    it.each([
      ['*', keys],
      ['user:?', ['user:1', 'user:2', 'user:a']],
      ['user:*', ['user:1', 'user:2', 'user:10', 'user:a']],
      ['user:[a-c]', ['user:a']],
      ['user:[0-9]*', ['user:1', 'user:2', 'user:10']],
      ['h[ae]llo', ['hello', 'hallo']],
      ['h[^e]llo', ['hallo', 'hxllo']],
      ['h?llo', ['hello', 'hallo', 'hxllo']], // `?` is one byte: é is two
      ['h??llo', ['héllo']],
      ['*1*', ['user:1', 'user:10']],
      ['a\\*b', ['a*b']],
      ['a\\?b', ['a?b']],
      ['a\\[b', ['a[b']],
      ['a\\\\b', ['a\\b']],
      ['a?b', ['a*b', 'a?b', 'a[b', 'a\\b']],
      ['nothing*', []],
      ['x', ['x']],
    ])('match %j returns exactly the matching keys, in byte order, across pages', async (match, expected) => {
      const { keys: found } = await scanAll('patterns', { match, count: '2' });
      expect(found).toEqual(sorted(expected));
    });

    it('pages hold at most `count` keys, the last cursor is "0", and the union is every key once', async () => {
      let cursor = '0';
      const seen: string[] = [];
      do {
        const body = (await page('patterns', { cursor, count: '4' })).json();
        expect(Object.keys(body).sort()).toEqual(['cacheName', 'cursor', 'keys']);
        expect(body.cacheName).toBe('patterns');
        expect(body.keys.length).toBeLessThanOrEqual(4);
        expect(typeof body.cursor).toBe('string');
        seen.push(...body.keys);
        cursor = body.cursor;
      } while (cursor !== '0');
      expect(seen).toEqual(sorted(keys));
    });

    it('without cursor the route answers as before: every key, no cursor', async () => {
      const body = (await http(url('/cacheName/patterns/keys'), { token })).json();
      expect(body).toEqual({ cacheName: 'patterns', keys: sorted(keys) });
    });

    it('withExpiry=true adds expiresAt, one per key (null: never expires)', async () => {
      await set('ttl-listing', 'forever');
      await set('ttl-listing', 'mortal', 'v', 3600);
      const before = Date.now();
      const body = (await page('ttl-listing', { cursor: '0', withExpiry: 'true' })).json();
      expect(body.keys).toEqual(['forever', 'mortal']);
      expect(body.expiresAt[0]).toBeNull();
      const expiresAt = Date.parse(body.expiresAt[1]);
      expect(new Date(expiresAt).toISOString()).toBe(body.expiresAt[1]);
      expect(expiresAt).toBeGreaterThan(before);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
      expect((await page('ttl-listing', { cursor: '0' })).json().expiresAt).toBeUndefined();
    });

    it.each([
      ['cursor', { cursor: '!!' }],
      ['cursor', { cursor: '' }],
      ['cursor', { cursor: 'QR' }], // not the canonical spelling of any key: no page answered it
      ['cursor', { cursor: 'a'.repeat(6000) }],
      ['count', { cursor: '0', count: '0' }],
      ['count', { cursor: '0', count: '1001' }],
      ['count', { cursor: '0', count: '-1' }],
      ['count', { cursor: '0', count: 'ten' }],
      ['match', { cursor: '0', match: '' }],
      ['match', { cursor: '0', match: '*'.repeat(513) }],
      ['withExpiry', { cursor: '0', withExpiry: 'yes' }],
      ['match', { match: '*' }],
      ['count', { count: '5' }],
      ['at', { cursor: '0', at: 'one' }],
    ])('a bad %s is a 400 INVALID_REQUEST naming it (case %#)', async (field, query) => {
      const res = await page('patterns', query as Record<string, string>);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ code: 'INVALID_REQUEST', message: expect.stringContaining(field) });
    });

    it('a cache that does not exist is 400 CACHE_NOT_FOUND; another org sees none of the keys', async () => {
      const res = await page('never-made', { cursor: '0' });
      expect(res.status).toBe(400);
      expect(res.json().code).toBe('CACHE_NOT_FOUND');
      const other = await page('patterns', { cursor: '0' }, tokenFor({ org: 'someone-else' }));
      expect(other.status).toBe(400);
      expect(other.json().code).toBe('CACHE_NOT_FOUND');
    });

    it('is stable under concurrent writes: every key present for the whole scan is returned, written ones may be', async () => {
      const stable = Array.from({ length: 300 }, (_, i) => `s:${String(i).padStart(3, '0')}`);
      for (let i = 0; i < stable.length; i += 100) {
        const cacheRequests = stable.slice(i, i + 100).map((key) => ({ cacheName: 'churn', key, value: 'c3RhYmxl' }));
        expect((await http(url('/batch'), { method: 'POST', token, body: { cacheRequests } })).status).toBe(200);
      }
      // Keys that come and go between pages, sorting among the stable ones, before and after the cursor.
      const transient = new Set<string>();
      const everWritten = new Set<string>(stable);
      let cursor = '0';
      const seen = new Set<string>();
      let round = 0;
      do {
        const body = (await page('churn', { cursor, count: '17' })).json();
        for (const key of body.keys) seen.add(key);
        cursor = body.cursor;
        round++;
        for (let j = 0; j < 5; j++) {
          const key = `s:${String((round * 37 + j * 61) % 300).padStart(3, '0')}:t${round}`;
          await set('churn', key);
          transient.add(key);
          everWritten.add(key);
        }
        for (const key of [...transient].slice(0, 3)) {
          await del('churn', key);
          transient.delete(key);
        }
      } while (cursor !== '0');
      expect(round).toBeGreaterThan(10);
      for (const key of stable) expect(seen).toContain(key);
      for (const key of seen) expect(everWritten).toContain(key);
    });

    it('bounded work: a page of a 100,000-key cache returns `count` keys, not the cache; a sparse match answers a cursor, not a walk to the end', async () => {
      const total = 100_000;
      for (let i = 0; i < total; i += 10_000) {
        const cacheRequests = Array.from({ length: 10_000 }, (_, j) => ({ cacheName: 'big', key: `k:${String(i + j).padStart(6, '0')}`, value: 'eA==' }));
        const res = await http(url('/batch'), { method: 'POST', token, body: { cacheRequests } });
        expect(res.status).toBe(200);
        expect(res.json().complete).toBe(true);
      }
      const figures = await http(url('/cacheName/big'), { token });
      expect(figures.json()).toMatchObject({ keyCount: total, valueBytes: total });
      expect(figures.body.length).toBeLessThan(200);

      const first = await page('big', { cursor: '0', count: '100' });
      expect(first.json().keys).toHaveLength(100);
      expect(first.json().keys[0]).toBe('k:000000');
      expect(first.json().cursor).not.toBe('0');
      expect(first.body.length).toBeLessThan(2_000); // the whole key list is ~1.2 MB

      // No key matches: a page that looked at every key would answer cursor "0"; a bounded one stops early.
      const sparse = await page('big', { cursor: '0', match: '*nothing*', count: '10' });
      expect(sparse.json().keys).toStrictEqual([]);
      expect(sparse.json().cursor).not.toBe('0');
      expect(sparse.body.length).toBeLessThan(200);

      // A literal prefix seeks: the 100 keys of k:0421* in one page and a final page, whatever the cache's size.
      const prefixed = await scanAll('big', { match: 'k:0421*', count: '100' });
      expect(prefixed.keys).toHaveLength(100);
      expect(prefixed.keys[0]).toBe('k:042100');
      expect(prefixed.pages).toBeLessThanOrEqual(2);
    }, 180_000);
  });

  describe('GET /cacheName/{c}: keyCount and valueBytes', () => {
    const figures = async (cache: string) => {
      const body = (await http(url(`/cacheName/${cache}`), { token })).json();
      return { keyCount: body.keyCount, valueBytes: body.valueBytes };
    };

    it('follow sets, overwrites, deletes, expiry, flush and delete', async () => {
      await set('counted', 'a', 'abc');
      await set('counted', 'b', 'hello');
      expect(await figures('counted')).toEqual({ keyCount: 2, valueBytes: 8 });
      await set('counted', 'a', '0123456789');
      expect(await figures('counted')).toEqual({ keyCount: 2, valueBytes: 15 });
      await del('counted', 'b');
      expect(await figures('counted')).toEqual({ keyCount: 1, valueBytes: 10 });
      await del('counted', 'never-there');
      expect(await figures('counted')).toEqual({ keyCount: 1, valueBytes: 10 });
      await set('counted', 'short-lived', 'xyz', 1);
      expect(await figures('counted')).toEqual({ keyCount: 2, valueBytes: 13 });
      // Once its Expired event is journaled (a moment after the second), the key no longer counts.
      for (let i = 0; i < 100 && (await figures('counted')).keyCount !== 1; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await figures('counted')).toEqual({ keyCount: 1, valueBytes: 10 });
      expect((await http(url('/cacheName/counted/flush'), { method: 'PUT', token })).status).toBe(202);
      expect(await figures('counted')).toEqual({ keyCount: 0, valueBytes: 0 });
      await set('counted', 'again', 'zz');
      expect((await http(url('/cacheName/counted'), { method: 'DELETE', token })).status).toBe(202);
      expect((await http(url('/cacheName/counted'), { token })).json()).toEqual({ cacheName: 'counted', description: '', deleted: true, keyCount: 0, valueBytes: 0 });
    }, 30_000);
  });

  describe("a key's expiry on reads", () => {
    it('X-Cachelog-Expires-At on the binary GET (absent without a TTL), expiresAt on the JSON get', async () => {
      await set('exp', 'ttl', 'v', 120);
      await set('exp', 'plain', 'v');
      const before = Date.now();
      const withTtl = await http(url('/exp/ttl'), { token });
      expect(withTtl.status).toBe(200);
      const header = withTtl.headers.get('x-cachelog-expires-at')!;
      expect(new Date(Date.parse(header)).toISOString()).toBe(header);
      expect(Date.parse(header)).toBeGreaterThan(before);
      expect(Date.parse(header)).toBeLessThanOrEqual(Date.now() + 120_000);
      const plain = await http(url('/exp/plain'), { token });
      expect(plain.status).toBe(200);
      expect(plain.headers.has('x-cachelog-expires-at')).toBe(false);
      expect((await http(url('/exp/missing'), { token })).headers.has('x-cachelog-expires-at')).toBe(false);

      expect((await http(url('/get/exp/ttl'), { token })).json()).toEqual({ cacheName: 'exp', key: 'ttl', success: true, value: 'dg==', expiresAt: header });
      expect((await http(url('/get/exp/plain'), { token })).json().expiresAt).toBeNull();
      expect((await http(url('/get/exp/missing'), { token })).json()).toEqual({ cacheName: 'exp', key: 'missing', success: false, value: '', expiresAt: null });
    });

    it('a point-in-time read answers the value as it was, without the header', async () => {
      await set('exp-past', 'k', 'old', 600);
      const past = await http(url('/exp-past/k?at=2'), { token });
      expect(past.status).toBe(200);
      expect(past.text).toBe('old');
      expect(past.headers.has('x-cachelog-expires-at')).toBe(false);
    });
  });

  describe('GET /orgMetrics: the org wall', () => {
    const orgA = tokenFor({ org: 'figures-a', name: 'A' });
    const orgB = tokenFor({ org: 'figures-b', name: 'B' });
    const figures = async (as: string, query = '') => {
      const res = await http(url(`/orgMetrics${query}`), { token: as });
      expect(res.status).toBe(200);
      return res.json();
    };

    it("answers the caller's org only: org B's traffic never shows in org A's figures", async () => {
      const quiet = await figures(orgA);
      expect(quiet.org).toBe('figures-a');
      expect(quiet.totals).toEqual({ reads: 0, hits: 0, misses: 0, sets: 0, deletes: 0, expiries: 0, evictions: 0, otherEvents: 0 });
      expect(quiet.valueBytes).toBe(0);
      expect(quiet.hitRatio).toEqual({ window: null, total: null });
      expect(quiet.journalCommits.total.count).toBe(0);

      // Org B: 5 sets (one with a TTL of 1 s that expires), 3 hits, 2 misses, 1 delete.
      for (let i = 0; i < 4; i++) await http(url(`/b-cache/k${i}`), { method: 'POST', token: orgB, body: Buffer.from('12345') });
      await http(url('/b-cache/soon/1'), { method: 'POST', token: orgB, body: Buffer.from('x') });
      for (let i = 0; i < 3; i++) expect((await http(url(`/b-cache/k${i}`), { token: orgB })).status).toBe(200);
      expect((await http(url('/get/b-cache/nope'), { token: orgB })).json().success).toBe(false);
      expect((await http(url('/b-cache/nope'), { token: orgB })).status).toBe(404);
      expect((await del('b-cache', 'k3', orgB)).status).toBe(202);
      let b = await figures(orgB);
      for (let i = 0; i < 100 && b.totals.expiries === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        b = await figures(orgB);
      }
      expect(b.org).toBe('figures-b');
      // otherEvents: the cache's Created.
      expect(b.totals).toEqual({ reads: 5, hits: 3, misses: 2, sets: 5, deletes: 1, expiries: 1, evictions: 0, otherEvents: 1 });
      expect(b.hitRatio.total).toBe(0.6);
      expect(b.valueBytes).toBe(15);
      expect(b.journalCommits.total.count).toBeGreaterThan(0);
      expect(b.journalCommits.total.meanMs).toBeGreaterThanOrEqual(0);

      // Org A still sees nothing of it, whatever it asks for.
      for (const query of ['', '?org=figures-b', '?windowSeconds=60']) {
        const a = await figures(orgA, query);
        expect(a.org).toBe('figures-a');
        expect(a.totals).toEqual(quiet.totals);
        expect(a.valueBytes).toBe(0);
        expect(a.journalCommits.total.count).toBe(0);
      }

      // A's own traffic is A's.
      await http(url('/a-cache/k'), { method: 'POST', token: orgA, body: Buffer.from('abc') });
      await http(url('/a-cache/k'), { token: orgA });
      const a = await figures(orgA);
      expect(a.totals).toEqual({ reads: 1, hits: 1, misses: 0, sets: 1, deletes: 0, expiries: 0, evictions: 0, otherEvents: 1 });
      expect(a.valueBytes).toBe(3);
      expect(a.hitRatio.total).toBe(1);
      expect(Object.keys(a.perSecond).sort()).toEqual(Object.keys(a.totals).sort());
      expect((await figures(orgB)).totals).toEqual(b.totals);
    }, 30_000);

    it('refuses a bad window (400) and a missing token (401)', async () => {
      for (const query of ['?windowSeconds=0', '?windowSeconds=61', '?windowSeconds=x']) {
        const res = await http(url(`/orgMetrics${query}`), { token: orgA });
        expect(res.status).toBe(400);
        expect(res.json()).toEqual({ code: 'INVALID_REQUEST', message: expect.stringContaining('windowSeconds') });
      }
      expect((await http(url('/orgMetrics'))).status).toBe(401);
    });
  });
});

describe('/metrics exposes the per-org counters with an org label', () => {
  const METRICS_TOKEN = 'metrics-token-for-the-console-api';
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp({ env: { METRICS_TOKEN } })));
  afterAll(() => app.dispose());

  it('cachelog_org_reads_total and cachelog_org_events_total by org', async () => {
    const token = tokenFor({ org: 'labelled' });
    await http(`${app.url}/c/k`, { method: 'POST', token, body: Buffer.from('v') });
    await http(`${app.url}/c/k`, { token });
    await http(`${app.url}/c/missing`, { token });
    const text = (await http(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text;
    expect(text).toContain('cachelog_org_reads_total{org="labelled",result="hit"} 1');
    expect(text).toContain('cachelog_org_reads_total{org="labelled",result="miss"} 1');
    expect(text).toContain('cachelog_org_events_total{org="labelled",kind="sets"} 1');
    expect(text).toMatch(/cachelog_org_journal_commits_total\{org="labelled"\} [1-9]/);
  });
});
