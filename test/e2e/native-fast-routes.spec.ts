import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** GET/POST /:cacheName/:key run on Fastify directly: same contract as the Nest routes. */
describe('native API: the fast binary routes', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'fast' });
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it('sets with 201 and reads back the bytes; a miss is 404 KEY_NOT_FOUND', async () => {
    const value = Buffer.from([0, 255, 1, 254]);
    const set = await http(`${app.url}/c1/k%2F1`, { method: 'POST', token, body: value });
    expect(set.status).toBe(201);
    expect(set.body.length).toBe(0);
    const got = await http(`${app.url}/c1/k%2F1`, { token });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.body.equals(value)).toBe(true);
    const miss = await http(`${app.url}/c1/nope`, { token });
    expect(miss.status).toBe(404);
    expect(miss.json()).toEqual({ code: 'KEY_NOT_FOUND', message: expect.any(String) });
    expect((await http(`${app.url}/never-created/k`, { token })).status).toBe(404);
  });

  it('refuses missing or bad tokens with 401 and writes nothing', async () => {
    for (const t of [undefined, 'garbage', tokenFor({ org: 'fast' }, { secret: 'another-secret-of-at-least-32-bytes!!' })]) {
      const answer = await http(`${app.url}/c2/k`, { method: 'POST', token: t, body: Buffer.from('x') });
      expect(answer.status).toBe(401);
      expect(answer.json().code).toBe('UNAUTHORIZED');
      expect((await http(`${app.url}/c2/k`, { token: t })).status).toBe(401);
    }
    expect((await http(`${app.url}/c2/k`, { token })).status).toBe(404);
  });

  it('validates path parameters and body type like the other routes', async () => {
    const long = await http(`${app.url}/c3/${'k'.repeat(1025)}`, { method: 'POST', token, body: Buffer.from('x') });
    expect(long.status).toBe(400);
    expect(long.json()).toEqual({ code: 'INVALID_REQUEST', message: 'key: must be at most 1024 characters' });
    const json = await http(`${app.url}/c3/k`, { method: 'POST', token, body: { not: 'bytes' } });
    expect(json.status).toBe(415);
    expect(json.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await http(`${app.url}/c3/k`, { token })).status).toBe(404);
  });

  it('keeps tenants apart', async () => {
    expect((await http(`${app.url}/shared/k`, { method: 'POST', token, body: Buffer.from('mine') })).status).toBe(201);
    expect((await http(`${app.url}/shared/k`, { token: tokenFor({ org: 'other' }) })).status).toBe(404);
  });
});
