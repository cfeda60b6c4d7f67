import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('429 per token by service level, on every API family', () => {
  let app: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => (app = await startTestApp({ clock, env: { RATE_LIMITS: 'free=3,pro=50', RATE_LIMIT_WINDOW_SECONDS: '10' } })));
  afterAll(() => app.dispose());

  it('native: the 4th request of a free token in a window is 429 with Retry-After; the next window admits again', async () => {
    const token = tokenFor({ org: 'rl', name: 'native-user' });
    for (let i = 0; i < 3; i++) expect((await http(`${app.url}/cacheName/list`, { token })).status).toBe(200);
    const limited = await http(`${app.url}/cacheName/list`, { token });
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/3 requests per 10 s .*"free"/) });
    expect(limited.headers.get('retry-after')).toBe('10');
    clock.advance(10_000);
    expect((await http(`${app.url}/cacheName/list`, { token })).status).toBe(200);
  });

  it('IronCache: 429 {"msg"}', async () => {
    const token = tokenFor({ org: 'rl', name: 'iron-user' });
    const call = () => http(`${app.url}/1/projects/rl/caches`, { headers: { authorization: `OAuth ${token}` } });
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({ msg: expect.stringMatching(/rate limit/) });
  });

  it('Momento: 429 with a text body', async () => {
    const token = tokenFor({ org: 'rl', name: 'momento-user' });
    const call = () => http(`${app.url}/cache/any?key=k&token=${token}`);
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(404);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(limited.text).toMatch(/rate limit exceeded/);
  });

  it('settings: 429 {"error":"too_many_requests"}', async () => {
    const token = tokenFor({ org: 'rl', name: 'settings-user' });
    for (let i = 0; i < 3; i++) await http(`${app.url}/cacheName/x/settings`, { token });
    const limited = await http(`${app.url}/cacheName/x/settings`, { token });
    expect(limited.status).toBe(429);
    expect(limited.json().error).toBe('too_many_requests');
  });

  it('limits are per token and per service level: a pro token and another free token are not held back', async () => {
    const pro = tokenFor({ org: 'rl', name: 'pro-user', serviceLevel: 'pro' });
    for (let i = 0; i < 10; i++) expect((await http(`${app.url}/cacheName/list`, { token: pro })).status).toBe(200);
    expect((await http(`${app.url}/cacheName/list`, { token: tokenFor({ org: 'rl', name: 'fresh' }) })).status).toBe(200);
  });

  it('a token that is not valid is 401, not counted', async () => {
    for (let i = 0; i < 5; i++) expect((await http(`${app.url}/cacheName/list`, { token: 'bad' })).status).toBe(401);
  });
});

describe('rate limiting is off by default', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it('admits many requests of one free token', async () => {
    const token = tokenFor({ org: 'nolimit' });
    const replies = await Promise.all(Array.from({ length: 50 }, () => http(`${app.url}/cacheName/list`, { token })));
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
  });
});
