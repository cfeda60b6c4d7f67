import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Red-team pass after the hardening pass (every answer passes the rate limiter, a sibling of the 304 case):
 * an IronCache path naming another project was refused 403 before the token's window was
 * counted, so a token could be answered without limit. The window is counted first now.
 */
describe('red team: a 403 for another project passes the rate limiter', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'mine' });
  beforeAll(async () => {
    app = await startTestApp({ env: { RATE_LIMITS: 'free=3', RATE_LIMIT_WINDOW_SECONDS: '3600' } });
  });
  afterAll(() => app.dispose());

  it('counts the refused requests and answers 429 past the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await http(`${app.url}/1/projects/theirs/caches/c`, { method: 'DELETE', headers: { authorization: `OAuth ${token}` } })).status);
    }
    expect(statuses).toEqual([403, 403, 403, 429, 429]);
    expect((await http(`${app.url}/1/projects/mine/caches`, { headers: { authorization: `OAuth ${token}` } })).status).toBe(429);
  });
});
