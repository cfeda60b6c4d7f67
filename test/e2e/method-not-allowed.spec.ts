import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * A verb a path does not support is 405 with `Allow`, in every family and in its own error
 * format: the paths exist, so 404 would tell a client the wrong thing.
 */
describe('405 with Allow on every API family', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'verbs' });

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.dispose());

  const send = (method: string, path: string) => http(`${app.url}${path}`, { method, token });

  it.each([
    ['PUT', '/c1/k1', 'GET, POST, DELETE'],
    ['PATCH', '/c1/k1', 'GET, POST, DELETE'],
    ['GET', '/c1/k1/30', 'POST'],
    ['GET', '/set', 'POST'],
    ['PUT', '/get/c1/k1', 'GET'],
    ['GET', '/batch', 'POST, DELETE'],
    ['GET', '/batch/get', 'POST'],
    ['DELETE', '/cacheName', 'PUT, POST'],
    ['POST', '/cacheName/list', 'GET'],
    ['PUT', '/cacheName/c1', 'GET, DELETE'],
    ['DELETE', '/cacheName/c1/keys', 'GET'],
    ['GET', '/cacheName/c1/flush', 'PUT'],
  ])('native: %s %s is 405 JSON with Allow: %s', async (method, path, allow) => {
    const r = await send(method, path);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe(allow);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json()).toEqual({ code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining(method) });
  });

  it.each([
    ['POST', '/cache/m1?key=k'],
    ['PATCH', '/cache/m1?key=k'],
  ])('Momento: %s %s is 405 plain text with Allow', async (method, path) => {
    const r = await http(`${app.url}${path}`, { method, headers: { authorization: token } });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toContain(method);
  });

  it('IronCache keeps its 405 {"msg"} with Allow', async () => {
    const r = await http(`${app.url}/1/projects/verbs/caches/c1/items/k1`, { method: 'POST', headers: { authorization: `OAuth ${token}` } });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect(r.json()).toEqual({ msg: expect.stringContaining('POST') });
  });

  it('a supported verb is still served, HEAD included where GET is', async () => {
    expect((await http(`${app.url}/c1/k1`, { method: 'POST', token, body: Buffer.from('v') })).status).toBe(201);
    expect((await send('GET', '/c1/k1')).text).toBe('v');
    expect((await send('HEAD', '/c1/k1')).status).toBe(200);
    expect((await send('GET', '/nowhere')).status).toBe(404); // a path that does not exist stays 404
  });

  it.each([
    ['POST', '/health/live'],
    ['DELETE', '/health/ready'],
    ['POST', '/docs/json'],
    ['PUT', '/docs'],
    ['POST', '/metrics'],
  ])('a public path: %s %s is 405 with Allow, with a token and without one', async (method, path) => {
    for (const withToken of [false, true]) {
      const r = await http(`${app.url}${path}`, { method, ...(withToken ? { token } : {}) });
      expect([withToken, r.status]).toEqual([withToken, 405]);
      expect(r.headers.get('allow')).toBe('GET');
    }
  });

  it('a path that needs a token still asks for it before it says 405', async () => {
    expect((await http(`${app.url}/c1/k1`, { method: 'PUT' })).status).toBe(401);
  });
});
