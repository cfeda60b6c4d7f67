import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Paging the keys of a past point (`?at=|asOf=&cursor=`), sizes on a key page (`withSize`), and
 * the list of an org's tasks (`GET /api/v1/cache/tasks/`) behind the org wall.
 */
describe('key pages at a point, withSize, and the task list', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'past-org', name: 'Ann' });
  const url = (path: string) => `${app.url}${path}`;
  const sorted = (list: Iterable<string>) => [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const set = (cache: string, key: string, value = 'v') => http(url(`/${encodeURIComponent(cache)}/${encodeURIComponent(key)}`), { method: 'POST', token, body: Buffer.from(value) });
  const del = (cache: string, key: string) => http(url(`/${encodeURIComponent(cache)}/${encodeURIComponent(key)}`), { method: 'DELETE', token });
  const page = (cache: string, query: Record<string, string>, as = token) => http(url(`/cacheName/${encodeURIComponent(cache)}/keys?${new URLSearchParams(query)}`), { token: as });
  const seqOf = async (cache: string) => Number((await http(url(`/cacheName/${cache}/keys`), { token })).headers.get('etag')!.replace(/\D/g, ''));
  const batch = async (cache: string, keys: string[], value = 'c3RhYmxl') => {
    const res = await http(url('/batch'), { method: 'POST', token, body: { cacheRequests: keys.map((key) => ({ cacheName: cache, key, value })) } });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => (app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } })));
  afterAll(() => app.dispose());

  describe('GET /cacheName/{c}/keys?at=|asOf=&cursor=', () => {
    it('returns every key of the point exactly once across pages while the cache is written meanwhile', async () => {
      const stable = Array.from({ length: 250 }, (_, i) => `p:${String(i).padStart(3, '0')}`);
      await batch('past', stable);
      await set('past', 'doomed');
      const at = await seqOf('past');
      const expected = sorted([...stable, 'doomed']);
      // The whole list at that point, as the route answered before paging.
      expect((await page('past', { at: String(at) })).json().keys).toEqual(expected);

      const seen: string[] = [];
      let cursor = '0';
      let round = 0;
      do {
        const res = await page('past', { at: String(at), cursor, count: '13' });
        expect(res.status).toBe(200);
        const body = res.json();
        expect(body.keys.length).toBeLessThanOrEqual(13);
        seen.push(...body.keys);
        cursor = body.cursor;
        round++;
        // Between pages: new keys among the old ones, deletes of old ones, and the point's keys overwritten.
        await set('past', `p:${String((round * 37) % 250).padStart(3, '0')}:new${round}`);
        await del('past', stable[(round * 53) % 250]);
        await set('past', stable[(round * 71) % 250], 'changed');
        if (round === 3) await del('past', 'doomed');
      } while (cursor !== '0');
      expect(round).toBeGreaterThan(10);
      expect(seen).toEqual(expected); // each once, in byte order, none written after the point
    });

    it('asOf pages, match and count, withExpiry and withSize answer as of then', async () => {
      await batch('asof', ['a:1', 'a:2', 'a:3', 'b:1']);
      await set('asof', 'a:big', 'x'.repeat(1000));
      const at = await seqOf('asof');
      await new Promise((resolve) => setTimeout(resolve, 20)); // the point's time is before the writes below
      const asOf = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await set('asof', 'a:0', 'later');
      await set('asof', 'a:big', 'short');

      const collect = async (query: Record<string, string>) => {
        const keys: string[] = [];
        const sizes: number[] = [];
        let cursor = '0';
        do {
          const body = (await page('asof', { ...query, cursor })).json();
          keys.push(...body.keys);
          sizes.push(...(body.valueBytes ?? []));
          cursor = body.cursor;
        } while (cursor !== '0');
        return { keys, sizes };
      };
      expect((await collect({ asOf, match: 'a:*', count: '2', withSize: 'true' })).keys).toEqual(['a:1', 'a:2', 'a:3', 'a:big']);
      expect(await collect({ at: String(at), match: 'a:*', withSize: 'true' })).toEqual({ keys: ['a:1', 'a:2', 'a:3', 'a:big'], sizes: [6, 6, 6, 1000] });
      const withExpiry = (await page('asof', { at: String(at), cursor: '0', withExpiry: 'true' })).json();
      expect(withExpiry.expiresAt).toEqual(withExpiry.keys.map(() => null));
      // Now: the new key and the overwritten size.
      expect(await collect({ match: 'a:*', withSize: 'true' })).toEqual({ keys: ['a:0', 'a:1', 'a:2', 'a:3', 'a:big'], sizes: [5, 6, 6, 6, 5] });
    });

    it('stays correct when more points are paged at once than are kept between pages', async () => {
      const points: Array<{ at: number; keys: string[] }> = [];
      for (let i = 0; i < 6; i++) {
        await batch('many-points', Array.from({ length: 10 }, (_, j) => `m${i}:${j}`));
        points.push({ at: await seqOf('many-points'), keys: sorted((await page('many-points', { at: String(await seqOf('many-points')) })).json().keys) });
      }
      const cursors = points.map(() => '0');
      const seen: string[][] = points.map(() => []);
      const done = points.map(() => false);
      while (done.includes(false)) {
        for (let i = 0; i < points.length; i++) {
          if (done[i]) continue;
          const body = (await page('many-points', { at: String(points[i].at), cursor: cursors[i], count: '7' })).json();
          seen[i].push(...body.keys);
          cursors[i] = body.cursor;
          done[i] = body.cursor === '0';
        }
      }
      points.forEach((point, i) => expect(seen[i]).toEqual(point.keys));
    });

    it.each([
      ['at', { at: 'x', cursor: '0' }],
      ['at', { at: '999999', cursor: '0' }],
      ['asOf', { asOf: 'yesterday', cursor: '0' }],
      ['at, asOf', { at: '1', asOf: '2026-01-01T00:00:00Z', cursor: '0' }],
      ['withSize', { withSize: 'yes', cursor: '0' }],
      ['withSize', { withSize: 'true' }],
      ['cursor', { at: '1', cursor: 'QR' }],
    ])('a bad %s is a 400 INVALID_REQUEST naming it (case %#)', async (field, query) => {
      await set('bad-input', 'k');
      const res = await page('bad-input', query as Record<string, string>);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ code: 'INVALID_REQUEST', message: expect.stringContaining(field) });
    });

    it("another org's token gets none of a point's keys", async () => {
      await set('walled', 'secret');
      const at = await seqOf('walled');
      const other = await page('walled', { at: String(at), cursor: '0' }, tokenFor({ org: 'intruder' }));
      expect(other.status).toBe(400);
      expect(other.text).not.toContain('secret');
    });

    it('a point before the cache existed is 400 CACHE_NOT_FOUND', async () => {
      await set('late', 'k');
      const res = await page('late', { at: '0', cursor: '0' });
      expect(res.status).toBe(400);
      expect(res.json().code).toBe('CACHE_NOT_FOUND');
    });
  });

  describe('GET /api/v1/cache/tasks/', () => {
    const start = (as: string, body: Record<string, unknown>) => http(url('/api/v1/cache/refresh/'), { method: 'POST', token: as, body });
    const list = (as: string, query: Record<string, string> = {}) => http(url(`/api/v1/cache/tasks/?${new URLSearchParams(query)}`), { token: as });
    const acme = tokenFor({ org: 'acme', name: 'Ann' });
    const acmeColleague = tokenFor({ org: 'acme', name: 'Bob' });
    const globex = tokenFor({ org: 'globex', name: 'Gil' });
    const operator = tokenFor({ org: 'ops', name: 'Olga', operator: true });
    const finish = async (as: string, ids: string[]) => {
      for (const id of ids) {
        for (;;) {
          const body = (await http(url(`/api/v1/cache/state/?task_id=${id}`), { token: as })).json();
          if (body.task_state === 'SUCCESS' || body.task_state === 'FAILURE') break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const acmeIds: string[] = [];
    let globexId = '';
    let instanceId = '';

    beforeAll(async () => {
      for (const [as, cache] of [[acme, 'a1'], [globex, 'g1'], [operator, 'o1']] as const) {
        expect((await http(url(`/${cache}/k`), { method: 'POST', token: as, body: Buffer.from('v') })).status).toBe(201);
      }
      // Started by two clients of acme: each sees both.
      for (const [as, action] of [[acme, 'snapshot'], [acmeColleague, 'export'], [acme, 'compact']] as const) {
        const res = await start(as, { resource_title: 'a1', action });
        expect(res.status).toBe(200);
        acmeIds.push(res.json().task_id);
      }
      globexId = (await start(globex, { resource_title: 'g1', action: 'snapshot' })).json().task_id;
      instanceId = (await start(operator, { action: 'backup', scope: 'instance' })).json().task_id;
      await finish(acme, acmeIds);
      await finish(globex, [globexId]);
      await finish(operator, [instanceId]);
    });

    it("answers the caller's org's tasks, newest first, whoever started them; never another org's", async () => {
      const res = await list(acmeColleague);
      expect(res.status).toBe(200);
      const body = res.json();
      expect(body.more).toBe(false);
      expect(body.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([...acmeIds].reverse());
      expect(body.tasks[0]).toMatchObject({ task_state: 'SUCCESS', action: 'compact', resource_title: 'a1', created_at: expect.any(String), finished_at: expect.any(String) });
      expect(body.tasks[1]).toMatchObject({ action: 'export', result: expect.objectContaining({ events: expect.any(Number) }) });
      expect(res.text).not.toContain(globexId);
      expect(res.text).not.toContain(instanceId);
      expect((await list(globex)).json().tasks.map((t: { task_id: string }) => t.task_id)).toEqual([globexId]);
    });

    it("an instance backup is listed to operator tokens only, not to its own org's other tokens", async () => {
      expect((await list(operator)).json().tasks.map((t: { task_id: string }) => t.task_id)).toContain(instanceId);
      const ordinary = await list(tokenFor({ org: 'ops', name: 'Otto' }));
      expect(ordinary.status).toBe(200);
      expect(ordinary.text).not.toContain(instanceId);
    });

    it('limit bounds the answer (more says older ones were left out); state filters', async () => {
      const two = (await list(acme, { limit: '2' })).json();
      expect(two.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([acmeIds[2], acmeIds[1]]);
      expect(two.more).toBe(true);
      expect((await list(acme, { state: 'SUCCESS', limit: '100' })).json().tasks).toHaveLength(3);
      expect((await list(acme, { state: 'PENDING' })).json()).toEqual({ tasks: [], more: false });
    });

    it('answers 304 to its ETag until a task changes', async () => {
      const first = await list(acme);
      const etag = first.headers.get('etag')!;
      expect((await http(url('/api/v1/cache/tasks/'), { token: acme, headers: { 'if-none-match': etag } })).status).toBe(304);
      const id = (await start(acme, { resource_title: 'a1', action: 'snapshot' })).json().task_id;
      const after = await http(url('/api/v1/cache/tasks/'), { token: acme, headers: { 'if-none-match': etag } });
      expect(after.status).toBe(200);
      expect(after.json().tasks[0].task_id).toBe(id);
      await finish(acme, [id]);
    });

    it.each([
      ['limit', { limit: '0' }],
      ['limit', { limit: '101' }],
      ['limit', { limit: 'ten' }],
      ['limit', { limit: '-1' }],
      ['state', { state: 'DONE' }],
      ['state', { state: 'success' }],
    ])('a bad %s is a 400 INVALID_REQUEST naming it (case %#)', async (field, query) => {
      const res = await list(acme, query);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ code: 'INVALID_REQUEST', message: expect.stringContaining(field) });
    });

    it('needs a token', async () => {
      expect((await http(url('/api/v1/cache/tasks/'))).status).toBe(401);
    });
  });
});
