import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass (the rate limit was skipped by answers that end in 304) and its sibling
 * (`serviceLevel: "constructor"` or `"__proto__"` gets no quota and no rate limit). The edge
 * counts every request before anything answers it, and limits are looked up by the table's
 * own keys only.
 */
describe('every answer passes the rate limiter, 304 included', () => {
  let app: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => (app = await startTestApp({ clock, env: { RATE_LIMITS: 'free=3', RATE_LIMIT_WINDOW_SECONDS: '10' } })));
  afterAll(() => app.dispose());

  const fourth = async (token: string, path: string, headers: Record<string, string> = {}) => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await http(`${app.url}${path}`, { token, headers })).status);
    return statuses;
  };

  it('GETs answered 304 by If-None-Match: * count, on the fast route and the Nest routes', async () => {
    const writer = tokenFor({ org: 'rl', name: 'writer' });
    expect((await http(`${app.url}/c/k`, { method: 'POST', token: writer, body: Buffer.from('v') })).status).toBe(201);
    for (const path of ['/c/k', '/get/c/k', '/cacheName/c/keys', '/cacheName/c']) {
      const statuses = await fourth(tokenFor({ org: 'rl', name: `reader ${path}` }), path, { 'if-none-match': '*' });
      expect({ path, statuses }).toEqual({ path, statuses: [304, 304, 304, 429] });
    }
  });

  it('?asOf= reads that end in 304 count too', async () => {
    const asOf = encodeURIComponent(new Date(clock.now() + 1000).toISOString());
    const statuses = await fourth(tokenFor({ org: 'rl', name: 'time traveller' }), `/c/k?asOf=${asOf}`, { 'if-none-match': '*' });
    expect(statuses).toEqual([304, 304, 304, 429]);
  });

  it('a task state answered 304 counts too', async () => {
    const token = tokenFor({ org: 'rl', name: 'tasks' });
    const submitted = await http(`${app.url}/api/v1/cache/refresh`, { method: 'POST', token, body: { resource_title: 'c', action: 'snapshot' } });
    expect(submitted.status).toBe(200);
    const statuses = await fourth(token, `/api/v1/cache/state?task_id=${submitted.json().task_id}`, { 'if-none-match': '*' });
    expect(statuses).toEqual([304, 304, 429, 429]); // the submission was the first of the window
  });
});

describe('service levels named after Object.prototype members get the free limits', () => {
  let app: TestApp;
  const clock = new ManualClock();
  beforeAll(
    async () =>
      (app = await startTestApp({
        clock,
        env: { RATE_LIMITS: 'free=2,pro=100', RATE_LIMIT_WINDOW_SECONDS: '10', ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' },
      })),
  );
  afterAll(() => app.dispose());

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('serviceLevel %j is rate-limited like free', async (serviceLevel) => {
    const token = tokenFor({ org: `rl-${serviceLevel}`, serviceLevel });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await http(`${app.url}/cacheName/list`, { token })).status);
    expect(statuses).toEqual([200, 200, 429]);
    clock.advance(10_000);
  });

  it.each(['constructor', '__proto__', 'toString'])('serviceLevel %j has the free byte quota', async (serviceLevel) => {
    const token = tokenFor({ org: `quota-${serviceLevel}`, serviceLevel });
    const over = await http(`${app.url}/q/k`, { method: 'POST', token, body: Buffer.alloc(101) });
    expect(over.status).toBe(400);
    expect(over.json().code).toBe('QUOTA_EXCEEDED');
    clock.advance(10_000);
  });

  it('RATE_LIMITS may name a level "__proto__" without touching any prototype', async () => {
    const other = await startTestApp({ env: { RATE_LIMITS: 'free=1,__proto__=2', RATE_LIMIT_WINDOW_SECONDS: '10' } });
    try {
      const token = tokenFor({ org: 'p', serviceLevel: '__proto__' });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await http(`${other.url}/cacheName/list`, { token })).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect(({} as Record<string, unknown>).free).toBeUndefined();
    } finally {
      await other.dispose();
    }
  });
});
