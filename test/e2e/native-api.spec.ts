import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('native API (Akka-Cache REST) over real HTTP', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme', name: 'Ann' });
  const url = (path: string) => `${app.url}${path}`;
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  describe('cache names', () => {
    it('POST /cacheName creates (201), GET shows it, PUT changes the description (202)', async () => {
      const created = await http(url('/cacheName'), { method: 'POST', token, body: { cacheName: 'names1', description: 'first' } });
      expect(created.status).toBe(201);
      expect(created.text).toBe('');
      expect((await http(url('/cacheName/names1'), { token })).json()).toEqual({ cacheName: 'names1', description: 'first', deleted: false, keyCount: 0, valueBytes: 0 });
      expect((await http(url('/cacheName'), { method: 'PUT', token, body: { cacheName: 'names1', description: 'second' } })).status).toBe(202);
      expect((await http(url('/cacheName/names1'), { token })).json()).toEqual({ cacheName: 'names1', description: 'second', deleted: false, keyCount: 0, valueBytes: 0 });
      expect((await http(url('/cacheName'), { method: 'POST', token, body: { cacheName: 'names1', description: 'third' } })).status).toBe(201);
      expect((await http(url('/cacheName/names1'), { token })).json().description).toBe('third');
    });

    it('PUT /cacheName on an unknown name is 400 CACHE_NOT_FOUND', async () => {
      const res = await http(url('/cacheName'), { method: 'PUT', token, body: { cacheName: 'never', description: 'x' } });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ code: 'CACHE_NOT_FOUND', message: expect.any(String) });
    });

    it('GET /cacheName/{name} of a name that never existed is 400', async () => {
      const res = await http(url('/cacheName/never-was'), { token });
      expect(res.status).toBe(400);
      expect(res.json().code).toBe('CACHE_NOT_FOUND');
    });

    it('DELETE /cacheName/{name} removes the name and all its keys at once (202); it then reads as deleted', async () => {
      await http(url('/doomed/k1'), { method: 'POST', token, body: Buffer.from('1') });
      await http(url('/doomed/k2'), { method: 'POST', token, body: Buffer.from('2') });
      expect((await http(url('/cacheName/doomed'), { method: 'DELETE', token })).status).toBe(202);
      expect((await http(url('/cacheName/doomed'), { token })).json()).toEqual({ cacheName: 'doomed', description: '', deleted: true, keyCount: 0, valueBytes: 0 });
      expect((await http(url('/doomed/k1'), { token })).status).toBe(404);
      expect((await http(url('/cacheName/doomed/keys'), { token })).status).toBe(400);
      expect((await http(url('/cacheName/list'), { token })).json().map((c: { cacheName: string }) => c.cacheName)).not.toContain('doomed');
      expect((await http(url('/cacheName/doomed'), { method: 'DELETE', token })).status).toBe(400);
      // POST revives the name, empty.
      expect((await http(url('/cacheName'), { method: 'POST', token, body: { cacheName: 'doomed', description: 'back' } })).status).toBe(201);
      expect((await http(url('/cacheName/doomed'), { token })).json()).toEqual({ cacheName: 'doomed', description: 'back', deleted: false, keyCount: 0, valueBytes: 0 });
      expect((await http(url('/cacheName/doomed/keys'), { token })).json()).toEqual({ cacheName: 'doomed', keys: [] });
    });

    it('PUT /cacheName/{name}/flush removes all keys and keeps the name; unknown name is 400', async () => {
      await http(url('/flushme/a'), { method: 'POST', token, body: Buffer.from('1') });
      await http(url('/flushme/b'), { method: 'POST', token, body: Buffer.from('2') });
      expect((await http(url('/cacheName/flushme/flush'), { method: 'PUT', token })).status).toBe(202);
      expect((await http(url('/cacheName/flushme/keys'), { token })).json()).toEqual({ cacheName: 'flushme', keys: [] });
      expect((await http(url('/cacheName/flushme'), { token })).json().deleted).toBe(false);
      expect((await http(url('/cacheName/nope/flush'), { method: 'PUT', token })).status).toBe(400);
    });

    it('GET /cacheName/{name}/keys lists live keys only; unknown name is 400', async () => {
      await http(url('/listed/a'), { method: 'POST', token, body: Buffer.from('1') });
      await http(url('/listed/b'), { method: 'POST', token, body: Buffer.from('2') });
      await http(url('/listed/c'), { method: 'POST', token, body: Buffer.from('3') });
      await http(url('/listed/b'), { method: 'DELETE', token });
      const res = await http(url('/cacheName/listed/keys'), { token });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ cacheName: 'listed', keys: ['a', 'c'] });
      expect((await http(url('/cacheName/unknown-cache/keys'), { token })).status).toBe(400);
    });

    it('GET /cacheName/list lists the org\'s live names with descriptions', async () => {
      const org = tokenFor({ org: 'listing-org' });
      await http(url('/cacheName'), { method: 'POST', token: org, body: { cacheName: 'one', description: 'first' } });
      await http(url('/two/k'), { method: 'POST', token: org, body: Buffer.from('v') });
      const res = await http(url('/cacheName/list'), { token: org });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual([
        { cacheName: 'one', description: 'first' },
        { cacheName: 'two', description: '' },
      ]);
    });
  });

  describe('values', () => {
    it('POST /{cache}/{key} stores raw bytes (201); GET returns them as octet-stream; missing is 404', async () => {
      const bytes = Buffer.from([0, 0xff, 0x10, 0x80, 0x00]);
      const res = await http(url('/bin/k'), { method: 'POST', token, body: bytes });
      expect(res.status).toBe(201);
      const got = await http(url('/bin/k'), { token });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.body.equals(bytes)).toBe(true);
      const missing = await http(url('/bin/missing'), { token });
      expect(missing.status).toBe(404);
      expect(missing.json().code).toBe('KEY_NOT_FOUND');
    });

    it('keeps keys and names with slashes, spaces and unicode apart', async () => {
      await http(url(`/${encodeURIComponent('ünï cödé')}/${encodeURIComponent('a/b?c')}`), { method: 'POST', token, body: Buffer.from('x') });
      const got = await http(url(`/get/${encodeURIComponent('ünï cödé')}/${encodeURIComponent('a/b?c')}`), { token });
      expect(got.json()).toEqual({ cacheName: 'ünï cödé', key: 'a/b?c', success: true, value: b64('x'), expiresAt: null });
    });

    it('an empty body stores an empty value', async () => {
      expect((await http(url('/empty/k'), { method: 'POST', token, body: Buffer.alloc(0) })).status).toBe(201);
      const got = await http(url('/empty/k'), { token });
      expect(got.status).toBe(200);
      expect(got.body.length).toBe(0);
    });

    it('POST /{cache}/{key}/{ttl} expires the value; TTL must be a whole number >= 0', async () => {
      expect((await http(url('/ttl/k/1'), { method: 'POST', token, body: Buffer.from('short') })).status).toBe(201);
      expect((await http(url('/ttl/k0/0'), { method: 'POST', token, body: Buffer.from('forever') })).status).toBe(201);
      expect((await http(url('/ttl/k'), { token })).text).toBe('short');
      for (const bad of ['-1', '1.5', 'abc', '1e3', '99999999999']) {
        const res = await http(url(`/ttl/bad/${bad}`), { method: 'POST', token, body: Buffer.from('x') });
        expect(res.status).toBe(400);
        expect(res.json().code).toBe('INVALID_REQUEST');
      }
      expect((await http(url('/ttl/bad'), { token })).status).toBe(404);
    });

    it('GET /get/{cache}/{key} answers JSON with base64; a miss is success:false without value', async () => {
      await http(url('/json/k'), { method: 'POST', token, body: Buffer.from('This is our second test') });
      expect((await http(url('/get/json/k'), { token })).json()).toEqual({
        cacheName: 'json',
        key: 'k',
        success: true,
        value: 'VGhpcyBpcyBvdXIgc2Vjb25kIHRlc3Q=',
        expiresAt: null,
      });
      const miss = await http(url('/get/json/nothing'), { token });
      expect(miss.status).toBe(200);
      expect(miss.json()).toEqual({ cacheName: 'json', key: 'nothing', success: false, value: '', expiresAt: null }); // value is required upstream
    });

    it('POST /set stores a base64 value (201), with an optional TTL', async () => {
      const res = await http(url('/set'), { method: 'POST', token, body: { cacheName: 'jset', key: 'k', value: b64('hello'), ttlSeconds: 100 } });
      expect(res.status).toBe(201);
      expect((await http(url('/jset/k'), { token })).text).toBe('hello');
    });

    it('POST /set rejects bad input with 400 and writes nothing', async () => {
      const cases: unknown[] = [
        { cacheName: 'jbad', key: 'k', value: 'not base64!' },
        { cacheName: 'jbad', key: 'k', value: 'YWJj=' },
        { cacheName: 'jbad', key: 'k' },
        { cacheName: 'jbad', value: b64('x') },
        { cacheName: '', key: 'k', value: b64('x') },
        { cacheName: 'jbad', key: 'k', value: 42 },
        { cacheName: 'jbad', key: 'k', value: b64('x'), ttlSeconds: -5 },
        { cacheName: 'jbad', key: 'k', value: b64('x'), ttlSeconds: 'ten' },
        { cacheName: 'jbad', key: 'k', value: b64('x'), ttlSeconds: 1.25 },
        [1, 2, 3],
        'just a string',
      ];
      for (const body of cases) {
        const res = await http(url('/set'), { method: 'POST', token, body: typeof body === 'string' ? JSON.stringify(body) : body, headers: { 'content-type': 'application/json' } });
        expect([res.status, res.json().code]).toEqual([400, 'INVALID_REQUEST']);
      }
      const malformed = await http(url('/set'), { method: 'POST', token, body: '{"cacheName": "jbad",', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.json().code).toBe('INVALID_JSON');
      expect((await http(url('/cacheName/jbad'), { token })).status).toBe(400);
    });

    it('DELETE /{cache}/{key} is 202; a missing key is 400 KEY_NOT_FOUND', async () => {
      await http(url('/del/k'), { method: 'POST', token, body: Buffer.from('v') });
      expect((await http(url('/del/k'), { method: 'DELETE', token })).status).toBe(202);
      expect((await http(url('/del/k'), { token })).status).toBe(404);
      const again = await http(url('/del/k'), { method: 'DELETE', token });
      expect(again.status).toBe(400);
      expect(again.json().code).toBe('KEY_NOT_FOUND');
    });

    it('a value larger than MAX_VALUE_BYTES is 413 and nothing is stored', async () => {
      const small = await startTestApp({ env: { MAX_VALUE_BYTES: '1024' } });
      try {
        const res = await http(`${small.url}/big/k`, { method: 'POST', token, body: Buffer.alloc(2048, 1) });
        expect(res.status).toBe(413);
        expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
        const json = await http(`${small.url}/set`, { method: 'POST', token, body: { cacheName: 'big', key: 'k', value: Buffer.alloc(2048, 1).toString('base64') } });
        expect([json.status, json.json().code]).toEqual([413, 'VALUE_TOO_LARGE']);
        const batch = await http(`${small.url}/batch`, {
          method: 'POST',
          token,
          body: { cacheRequests: [{ cacheName: 'big', key: 'a', value: b64('ok') }, { cacheName: 'big', key: 'b', value: Buffer.alloc(1500).toString('base64') }] },
        });
        expect(batch.status).toBe(413);
        expect((await http(`${small.url}/big/a`, { token })).status).toBe(404);
        expect((await http(`${small.url}/big/k`, { token })).status).toBe(404);
        expect((await http(`${small.url}/big/ok`, { method: 'POST', token, body: Buffer.alloc(1024, 1) })).status).toBe(201);
      } finally {
        await small.dispose();
      }
    });
  });

  describe('batches', () => {
    it('POST /batch sets every element and answers one result per element, in order', async () => {
      const res = await http(url('/batch'), {
        method: 'POST',
        token,
        body: {
          cacheRequests: [
            { cacheName: 'bat', key: 'key1', value: b64('one') },
            { cacheName: 'bat', key: 'key2', value: b64('two'), ttlSeconds: 60 },
            { cacheName: 'bat2', key: 'key3', value: b64('three') },
            { cacheName: 'bat', key: 'key2', value: b64('two again') },
          ],
        },
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        complete: true,
        results: [
          { cacheName: 'bat', key: 'key1', success: true },
          { cacheName: 'bat', key: 'key2', success: true },
          { cacheName: 'bat2', key: 'key3', success: true },
          { cacheName: 'bat', key: 'key2', success: true },
        ],
      });
      expect((await http(url('/bat/key2'), { token })).text).toBe('two again');
    });

    it('POST /batch with one invalid element is 400 and writes nothing', async () => {
      const res = await http(url('/batch'), {
        method: 'POST',
        token,
        body: { cacheRequests: [{ cacheName: 'batbad', key: 'a', value: b64('x') }, { cacheName: 'batbad', key: 'b', value: '***' }] },
      });
      expect(res.status).toBe(400);
      expect((await http(url('/batbad/a'), { token })).status).toBe(404);
      expect((await http(url('/batch'), { method: 'POST', token, body: { cacheRequests: 'nope' } })).status).toBe(400);
    });

    it('POST /batch/get returns hits with base64 values and misses inline', async () => {
      const res = await http(url('/batch/get'), {
        method: 'POST',
        token,
        body: { getCachedBatch: [{ cacheName: 'bat', key: 'key1' }, { cacheName: 'bat', key: 'nope' }, { cacheName: 'bat2', key: 'key3' }] },
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        complete: true,
        results: [
          { cacheName: 'bat', key: 'key1', success: true, value: b64('one') },
          { cacheName: 'bat', key: 'nope', success: false, value: '' },
          { cacheName: 'bat2', key: 'key3', success: true, value: b64('three') },
        ],
      });
    });

    it('DELETE /batch deletes and lists every element, failures included', async () => {
      const res = await http(url('/batch'), {
        method: 'DELETE',
        token,
        body: { getCachedBatch: [{ cacheName: 'bat', key: 'key1' }, { cacheName: 'bat', key: 'nope' }] },
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({
        success: false,
        cacheDeleteResponses: [
          { cacheName: 'bat', key: 'key1', success: true },
          { cacheName: 'bat', key: 'nope', success: false },
        ],
      });
      expect((await http(url('/bat/key1'), { token })).status).toBe(404);
    });
  });

  describe('bad requests', () => {
    it('an unknown route is a JSON 404', async () => {
      const res = await http(url('/a/b/c/d'), { token });
      expect(res.status).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    });

    it('a JSON body sent to the binary write is 415, not stored', async () => {
      const res = await http(url('/typed/k'), { method: 'POST', token, body: { a: 1 } });
      expect(res.status).toBe(415);
      expect((await http(url('/typed/k'), { token })).status).toBe(404);
    });

    it('a name or key longer than allowed is 400', async () => {
      expect((await http(url(`/${'n'.repeat(256)}/k`), { method: 'POST', token, body: Buffer.from('x') })).status).toBe(400);
      expect((await http(url(`/c/${'k'.repeat(1025)}`), { method: 'POST', token, body: Buffer.from('x') })).status).toBe(400);
    });
  });
});
