import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('Momento-compatible HTTP API over real HTTP', () => {
  let app: TestApp;
  const clock = new ManualClock();
  const token = tokenFor({ org: 'mo' });
  const url = (cacheName: string, query: string) => `${app.url}/cache/${cacheName}?${query}`;
  const withAuth = { authorization: token };

  beforeAll(async () => {
    app = await startTestApp({ clock });
    // Momento caches are created beforehand (here through the native API).
    for (const cacheName of ['m1', 'm2']) {
      expect((await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName } })).status).toBe(201);
    }
  });
  afterAll(() => app.dispose());

  it('PUT stores raw bytes (204) and GET returns them as octet-stream', async () => {
    const value = Buffer.from([0, 1, 2, 253, 254, 255]);
    const put = await http(url('m1', 'key=bin&ttl_seconds=300'), { method: 'PUT', body: value, headers: withAuth });
    expect(put.status).toBe(204);
    expect(put.body.length).toBe(0);
    const got = await http(url('m1', 'key=bin'), { headers: withAuth });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.body.equals(value)).toBe(true);
  });

  it('key_base64 (base64url) names the same key as key', async () => {
    await http(url('m1', 'key=example_key&ttl_seconds=300'), { method: 'PUT', body: 'example value', headers: withAuth });
    const got = await http(url('m1', `key_base64=${Buffer.from('example_key').toString('base64url')}`), { headers: withAuth });
    expect(got.status).toBe(200);
    expect(got.text).toBe('example value');
    const bytesKey = Buffer.from('ключ?/+', 'utf8').toString('base64url');
    expect((await http(url('m1', `key_base64=${bytesKey}&ttl_seconds=60`), { method: 'PUT', body: Buffer.from('x'), headers: withAuth })).status).toBe(204);
    expect((await http(url('m1', `key=${encodeURIComponent('ключ?/+')}`), { headers: withAuth })).text).toBe('x');
  });

  it('takes the token as ?token=, as Authorization: <token> and as Authorization: Bearer <token>', async () => {
    await http(url('m1', 'key=t&ttl_seconds=300'), { method: 'PUT', body: Buffer.from('v'), headers: withAuth });
    expect((await http(url('m1', `key=t&token=${token}`))).text).toBe('v');
    expect((await http(url('m1', 'key=t'), { headers: { authorization: `Bearer ${token}` } })).text).toBe('v');
  });

  it('a miss is 404 "Key Not Found"; a missing cache is 404 "Cache Not Found"', async () => {
    const miss = await http(url('m1', 'key=absent'), { headers: withAuth });
    expect(miss.status).toBe(404);
    expect(miss.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(miss.text).toBe('Key Not Found');
    const noCache = await http(url('nocache', 'key=absent'), { headers: withAuth });
    expect(noCache.status).toBe(404);
    expect(noCache.text).toBe('Cache Not Found');
  });

  it('PUT to a missing cache is 404 "Cache Not Found" and creates nothing', async () => {
    const put = await http(url('nocache', 'key=k&ttl_seconds=10'), { method: 'PUT', body: Buffer.from('v'), headers: withAuth });
    expect(put.status).toBe(404);
    expect(put.text).toBe('Cache Not Found');
    expect((await http(url('nocache', 'key=k'), { headers: withAuth })).text).toBe('Cache Not Found');
  });

  it('a missing or bad ttl_seconds is 400 with a text body, and nothing is stored', async () => {
    for (const ttl of ['', '&ttl_seconds=', '&ttl_seconds=abc', '&ttl_seconds=0', '&ttl_seconds=-5', '&ttl_seconds=1.5', '&ttl_seconds=99999999999']) {
      const put = await http(url('m2', `key=ttl${ttl}`), { method: 'PUT', body: Buffer.from('v'), headers: withAuth });
      expect(put.status).toBe(400);
      expect(put.text).toMatch(/ttl_seconds/);
    }
    expect((await http(url('m2', 'key=ttl'), { headers: withAuth })).text).toBe('Key Not Found');
  });

  it('the value expires after ttl_seconds', async () => {
    await http(url('m2', 'key=short&ttl_seconds=10'), { method: 'PUT', body: Buffer.from('v'), headers: withAuth });
    expect((await http(url('m2', 'key=short'), { headers: withAuth })).status).toBe(200);
    clock.advance(10_001);
    const got = await http(url('m2', 'key=short'), { headers: withAuth });
    expect(got.status).toBe(404);
    expect(got.text).toBe('Key Not Found');
  });

  it('DELETE is 204, also for a key that is not there; on a missing cache it is 404 "Cache Not Found"', async () => {
    await http(url('m2', 'key=del&ttl_seconds=300'), { method: 'PUT', body: Buffer.from('v'), headers: withAuth });
    expect((await http(url('m2', 'key=del'), { method: 'DELETE', headers: withAuth })).status).toBe(204);
    expect((await http(url('m2', 'key=del'), { headers: withAuth })).text).toBe('Key Not Found');
    expect((await http(url('m2', 'key=del'), { method: 'DELETE', headers: withAuth })).status).toBe(204);
    const noCache = await http(url('nocache', 'key=del'), { method: 'DELETE', headers: withAuth });
    expect(noCache.status).toBe(404);
    expect(noCache.text).toBe('Cache Not Found');
  });

  it('a missing key, both key forms, or bad key_base64 is 400', async () => {
    for (const query of ['ttl_seconds=5', 'key=a&key_base64=YQ&ttl_seconds=5', 'key_base64=***&ttl_seconds=5', 'key_base64=_w&ttl_seconds=5', 'key=&ttl_seconds=5']) {
      const put = await http(url('m2', query), { method: 'PUT', body: Buffer.from('v'), headers: withAuth });
      expect(put.status).toBe(400);
      expect(put.text.length).toBeGreaterThan(0);
    }
    expect((await http(url('m2', ''), { headers: withAuth })).status).toBe(400);
  });

  it('a JSON-typed body is 415 (values are bytes: send octet-stream)', async () => {
    const put = await http(url('m2', 'key=j&ttl_seconds=5'), { method: 'PUT', body: { a: 1 }, headers: withAuth });
    expect(put.status).toBe(415);
    expect(put.text).toMatch(/octet-stream/);
  });

  it('no token or an invalid one is 401 with a text body', async () => {
    const none = await http(url('m1', 'key=bin'));
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(none.text).toMatch(/token/);
    expect((await http(url('m1', 'key=bin&token=garbage'))).status).toBe(401);
    expect((await http(url('m1', 'key=bin'), { headers: { authorization: tokenFor({ org: 'mo' }, { secret: 'x'.repeat(40) }) } })).status).toBe(401);
  });

  it("another org's token sees none of this org's caches", async () => {
    const other = tokenFor({ org: 'someone-else' });
    const got = await http(url('m1', 'key=bin'), { headers: { authorization: other } });
    expect(got.status).toBe(404);
    expect(got.text).toBe('Cache Not Found');
  });
});
