import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('bad input to the compatible APIs and settings gets a 4xx, never a 5xx', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'bad' });
  beforeAll(async () => {
    app = await startTestApp();
    await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'c' } });
  });
  afterAll(() => app.dispose());

  const long = 'x'.repeat(1500);
  const cases: Array<[string, string, { body?: unknown; headers?: Record<string, string> }?]> = [
    ['GET', `/1/projects/bad/caches/c/items/${long}`],
    ['PUT', `/1/projects/bad/caches/${'n'.repeat(300)}/items/k`, { body: { value: 'v' } }],
    ['GET', '/1/projects/bad/caches?page=1&page=2'],
    ['GET', '/1/projects/bad/caches?oauth=a&oauth=b', { headers: { authorization: '' } }],
    ['PUT', '/1/projects/bad/caches/c/items/k', { body: Buffer.from([0xff, 0xfe]) }],
    ['PUT', '/1/projects/bad/caches/c/items/k', { body: { value: 'v', cas: 1e300 } }],
    ['PUT', '/1/projects/bad/caches/c/items/k', { body: { value: 'v', expires_in: -1 } }],
    ['POST', '/1/projects/bad/caches/c/items/k/increment', { body: { amount: 1e300 } }],
    ['POST', '/1/projects/bad/caches/c/items/k/increment', { body: { amount: '1' } }],
    ['POST', '/1/projects/bad/caches/c/items/k/increment', { body: 'null', headers: { 'content-type': 'application/json' } }],
    ['GET', '/cache/c?key=a&key=b'],
    ['PUT', '/cache/c?key=k&ttl_seconds=1&ttl_seconds=2', { body: Buffer.from('v') }],
    ['PUT', `/cache/c?key=${long}&ttl_seconds=5`, { body: Buffer.from('v') }],
    ['GET', `/cache/${'n'.repeat(300)}?key=k`],
    ['PUT', '/cacheName/c/settings', { body: { capacity: 1e300 } }],
    ['PUT', '/cacheName/c/settings', { body: { ttl: null } }],
    ['PUT', '/cacheName/c/settings', { body: Buffer.from('capacity=3') }],
  ];

  const short = (path: string) => path.replace(/([xn])\1{9,}/g, '$1…');
  it.each(cases.map(([method, path, options]) => [`${method} ${short(path)}`, method, path, options] as const))('%s', async (_label, method, path, options = {}) => {
    const headers: Record<string, string> = path.startsWith('/1/')
      ? { authorization: `OAuth ${token}` }
      : path.startsWith('/cache/')
        ? { authorization: token }
        : { authorization: `Bearer ${token}` };
    const r = await http(`${app.url}${path}`, { method, body: options.body, headers: { ...headers, ...options.headers } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.text.length).toBeGreaterThan(0);
  });
});
