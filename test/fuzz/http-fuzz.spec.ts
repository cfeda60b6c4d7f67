import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { Journal } from '../../src/journal/journal';
import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Thousands of generated malformed requests over every native route: bad JSON, wrong
 * types, huge numbers, unicode and path-traversal keys, oversize bodies, bad base64, bad
 * tokens. Never a 5xx, never a crash, and a rejected request never changes the journal.
 */
const MAX_VALUE_BYTES = 1024;
const good = tokenFor({ org: 'fuzz' });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

const tokenArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(`Bearer ${good}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Bearer ',
      'Bearer x',
      `Basic ${good}`,
      `Bearer ${good}x`,
      `Bearer ${good.split('.').slice(0, 2).join('.')}.`,
      `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ org: 'fuzz' })}.`,
      `Bearer ${tokenFor({ org: 'fuzz' }, { secret: 'another-secret-of-at-least-32-bytes!!' })}`,
      `Bearer ${tokenFor({ org: 'fuzz' }, { expiresIn: -10 })}`,
      `Bearer ${tokenFor({})}`,
      `Bearer ${tokenFor({ org: 12 } as never)}`,
      `Bearer ${tokenFor({ org: 'x'.repeat(5000) })}`,
      `Bearer ${'a'.repeat(8000)}`,
    ),
  },
);

/** A path segment: plain, unicode, traversal, bad or odd percent-encoding, oversize. */
const segmentArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('c', 'k', 'list', 'keys', 'flush', 'get', 'batch', 'set', 'cacheName') },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom('..', '%2e%2e', '%2E%2E%2F%2E%2E', '..%2F..%2Fetc%2Fpasswd', '%00', '%ff', '%zz', '%', 'a%2Fb', '%E2%80%AE', '%F0%9F%92%A9', '~', '%20') },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(300), 'y'.repeat(1100), 'z'.repeat(3000)) },
  { weight: 1, arbitrary: fc.constantFrom('-1', '1.5', '1e3', '99999999999', '0x10', '%201', '007', '3153600001') },
);

const hugeNumbers = [1e309, -1, 1.5, 2 ** 60, -0, Number.MAX_SAFE_INTEGER + 2, 3153600001];
const jsonValueArb = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1.5, '', 'a', [], {}, ...hugeNumbers),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.constantFrom('aGVsbG8=', 'aGVsbG8', '!!!!', 'aGVs bG8=', '====', 'a'.repeat(4 * 400)),
);
const elementArb = fc.record(
  { cacheName: jsonValueArb, key: jsonValueArb, value: jsonValueArb, ttlSeconds: jsonValueArb, description: jsonValueArb },
  { requiredKeys: [] },
);
const jsonBodyArb = fc.oneof(
  elementArb,
  fc.record({ cacheRequests: fc.oneof(fc.array(elementArb, { maxLength: 4 }), jsonValueArb) }, { requiredKeys: [] }),
  fc.record({ getCachedBatch: fc.oneof(fc.array(elementArb, { maxLength: 4 }), jsonValueArb) }, { requiredKeys: [] }),
  jsonValueArb,
);

const bodyArb: fc.Arbitrary<{ contentType?: string; body?: Buffer }> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 4, arbitrary: jsonBodyArb.map((v) => ({ contentType: 'application/json', body: Buffer.from(JSON.stringify(v) ?? 'null') })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('{', '{"cacheName":', '[1,2', 'nul', '{"a":1}}', '\u0000', '{"cacheName":"c","key":"k","value":"aGk=",}', '"\\ud800"', '{"__proto__":{"x":1}}', '9'.repeat(400))
      .map((text) => ({ contentType: 'application/json', body: Buffer.from(text) })),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ contentType: 'application/octet-stream', body: Buffer.from(bytes) })) },
  { weight: 1, arbitrary: fc.constant({ contentType: 'application/octet-stream', body: Buffer.alloc(MAX_VALUE_BYTES + 1, 1) }) },
  { weight: 1, arbitrary: fc.constant({ contentType: 'application/json', body: Buffer.alloc(2 * 1024 * 1024, 0x20) }) },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '', 'a/b/c').map((contentType) => ({ contentType, body: Buffer.from('{"cacheName":"c"}') })) },
);

const routeArb: fc.Arbitrary<[string, string]> = fc.oneof<fc.Arbitrary<[string, string]>[]>(
  fc.tuple(fc.constantFrom('POST', 'PUT'), fc.constant('/cacheName')),
  fc.tuple(fc.constant('GET'), fc.constant('/cacheName/list')),
  fc.tuple(fc.constantFrom('GET', 'DELETE'), segmentArb.map((c) => `/cacheName/${c}`)),
  fc.tuple(fc.constant('PUT'), segmentArb.map((c) => `/cacheName/${c}/flush`)),
  fc.tuple(fc.constant('GET'), segmentArb.map((c) => `/cacheName/${c}/keys`)),
  fc.tuple(fc.constantFrom('GET', 'POST', 'DELETE'), fc.tuple(segmentArb, segmentArb).map(([c, k]) => `/${c}/${k}`)),
  fc.tuple(fc.constant('POST'), fc.tuple(segmentArb, segmentArb, segmentArb).map(([c, k, t]) => `/${c}/${k}/${t}`)),
  fc.tuple(fc.constant('GET'), fc.tuple(segmentArb, segmentArb).map(([c, k]) => `/get/${c}/${k}`)),
  fc.tuple(fc.constant('POST'), fc.constant('/set')),
  fc.tuple(fc.constantFrom('POST', 'DELETE'), fc.constant('/batch')),
  fc.tuple(fc.constant('POST'), fc.constant('/batch/get')),
  fc.tuple(fc.constantFrom('PATCH', 'OPTIONS', 'HEAD', 'PUT'), fc.tuple(segmentArb, segmentArb).map(([c, k]) => `/${c}/${k}`)),
  fc.tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/', '//', '/../../etc/passwd', '/%2e%2e/%2e%2e', '/cacheName/', '/batch/get/x', `/${'a/'.repeat(50)}`)),
);

const requestArb = fc.record({ route: routeArb, authorization: tokenArb, payload: bodyArb });

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(url: string, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP fuzzing of the native API', () => {
  let app: TestApp;
  let journal: Journal;
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) }, clock: new ManualClock() });
    journal = app.app.get(Journal);
    // Some live data, so reads and deletes have something to hit.
    // Caches named like static routes are written through /set: their paths own their verbs (POST /cacheName/list is 405).
    for (const [c, k] of [['c', 'k'], ['cacheName', 'list'], ['get', 'set']]) {
      const body = { cacheName: c, key: k, value: Buffer.from('v').toString('base64') };
      expect((await http(`${app.url}/set`, { method: 'POST', token: good, body })).status).toBe(201);
    }
  });
  afterAll(async () => {
    agent.destroy();
    await app.dispose();
  });

  it('answers every malformed request with a 4xx (or a 2xx when it is valid after all), never a 5xx; rejected ones journal nothing', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async ({ route: [method, path], authorization, payload }) => {
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (payload.contentType !== undefined) headers['content-type'] = payload.contentType;
        const body = method === 'GET' || method === 'HEAD' ? undefined : payload.body;
        if (body) headers['content-length'] = String(body.length);
        await journal.whenIdle();
        const before = journal.highestOffset;
        const answer = await send(app.url, method, path, headers, body);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) {
          await journal.whenIdle();
          expect(journal.highestOffset).toBe(before);
          if (method !== 'HEAD') expect(JSON.parse(answer.body)).toEqual({ code: expect.any(String), message: expect.any(String) });
        }
      }),
      { numRuns: 3000, seed: 424242 },
    );
    // The service still works, and the fuzzing reached both outcomes.
    expect((await http(`${app.url}/after/fuzz`, { method: 'POST', token: good, body: Buffer.from('ok') })).status).toBe(201);
    expect((await http(`${app.url}/after/fuzz`, { token: good })).text).toBe('ok');
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
  });
});
