import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('native API: a first round trip', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it('stores bytes with POST and returns them with GET', async () => {
    const value = Buffer.from([0, 1, 2, 255, 254]);
    expect((await http(`${app.url}/cache1/k1`, { method: 'POST', token, body: value })).status).toBe(201);
    const got = await http(`${app.url}/cache1/k1`, { token });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.body.equals(value)).toBe(true);
  });
});
