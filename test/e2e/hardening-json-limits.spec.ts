import { Journal } from '../../src/journal/journal';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass (JSON work before limits): every route has its own body limit (small for
 * control routes, value-sized for values and batches), and JSON nested deeper than
 * MAX_JSON_DEPTH is refused by a scan before JSON.parse ever sees it. Refusals change nothing.
 */
describe('JSON size and depth limits apply before parsing', () => {
  let app: TestApp;
  let journal: Journal;
  const token = tokenFor({ org: 'acme' });
  const oauth = { authorization: `OAuth ${token}` };
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_CONTROL_BODY_BYTES: '2048', MAX_JSON_DEPTH: '8', MAX_VALUE_BYTES: '65536' } });
    journal = app.app.get(Journal);
  });
  afterAll(() => app.dispose());

  const unchanged = async (send: () => Promise<{ status: number }>) => {
    await journal.whenIdle();
    const before = journal.highestOffset;
    const answer = await send();
    await journal.whenIdle();
    expect(journal.highestOffset).toBe(before);
    return answer;
  };

  it('a 6 MB body of "[" with a valid token is 400 JSON_TOO_DEEP on a value route, at once', async () => {
    // A batch route takes value-sized bodies; make room for 6 MB there.
    const big = await startTestApp({ env: { MAX_BATCH_BODY_BYTES: String(8 * 1000 * 1000) } });
    try {
      const started = Date.now();
      const answer = await http(`${big.url}/batch`, { method: 'POST', token, body: '['.repeat(6 * 1000 * 1000), headers: { 'content-type': 'application/json' } });
      expect(answer.status).toBe(400);
      expect(answer.json()).toEqual({ code: 'JSON_TOO_DEEP', message: expect.stringContaining('MAX_JSON_DEPTH') });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await big.dispose();
    }
  });

  it('JSON deeper than MAX_JSON_DEPTH is 400 in every family; as deep as allowed is parsed', async () => {
    const nested = (depth: number) => `{"cacheName":"c","key":"k","value":"aGk=","x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    const native = await unchanged(() => http(`${app.url}/set`, { method: 'POST', token, body: nested(9), headers: { 'content-type': 'application/json' } }));
    expect(native.status).toBe(400);
    expect((native as any).json().code).toBe('JSON_TOO_DEEP');
    expect((await http(`${app.url}/set`, { method: 'POST', token, body: nested(8), headers: { 'content-type': 'application/json' } })).status).toBe(201);

    const iron = await unchanged(() => http(`${app.url}/1/projects/acme/caches/c/items/k`, { method: 'PUT', body: `{"value":"v","x":${'['.repeat(20)}${']'.repeat(20)}}`, headers: { ...oauth, 'content-type': 'application/json' } }));
    expect(iron.status).toBe(400);
    expect((iron as any).json()).toEqual({ msg: expect.stringContaining('MAX_JSON_DEPTH') });
    // IronCache reads a body of another content type as JSON too: same check.
    const ironText = await unchanged(() => http(`${app.url}/1/projects/acme/caches/c/items/k`, { method: 'PUT', body: `{"value":${'['.repeat(20)}`, headers: { ...oauth, 'content-type': 'text/plain' } }));
    expect(ironText.status).toBe(400);

    const settings = await unchanged(() => http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: '['.repeat(100), headers: { 'content-type': 'application/json' } }));
    expect(settings.status).toBe(400);
    expect((settings as any).json().error).toBe('bad_request');
  });

  it('brackets inside strings do not count', async () => {
    const answer = await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'brackets', description: '['.repeat(500) } });
    expect(answer.status).toBe(201);
  });

  it('a control route takes at most MAX_CONTROL_BODY_BYTES: 413, declared or streamed', async () => {
    const body = { cacheName: 'big-description', description: 'd'.repeat(3000) };
    const declared = await unchanged(() => http(`${app.url}/cacheName`, { method: 'POST', token, body }));
    expect(declared.status).toBe(413);
    expect((declared as any).json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    // Without a content-length (chunked), reading stops at the limit.
    const streamed = await unchanged(async () => {
      const response = await fetch(`${app.url}/cacheName`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: new Blob([JSON.stringify(body)]).stream(),
        duplex: 'half',
      } as RequestInit);
      return { status: response.status, body: await response.text() };
    });
    expect(streamed.status).toBe(413);
    const tasks = await unchanged(() => http(`${app.url}/api/v1/cache/refresh`, { method: 'POST', token, body: { resource_title: 'c', action: 'snapshot', pad: 'x'.repeat(3000) } }));
    expect(tasks.status).toBe(413);
    const increment = await unchanged(() => http(`${app.url}/1/projects/acme/caches/c/items/n/increment`, { method: 'POST', body: { amount: 1, pad: 'x'.repeat(3000) }, headers: oauth }));
    expect(increment.status).toBe(413);
    expect((increment as any).json()).toEqual({ msg: expect.any(String) });
  });

  it('value routes take value-sized bodies: a JSON set and an IronCache put of 40 KB are stored', async () => {
    const value = Buffer.alloc(40_000, 7);
    expect((await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'v', key: 'k', value: value.toString('base64') } })).status).toBe(201);
    expect((await http(`${app.url}/v/k`, { token })).body.equals(value)).toBe(true);
    expect((await http(`${app.url}/1/projects/acme/caches/v/items/i`, { method: 'PUT', body: { value: 'x'.repeat(40_000) }, headers: oauth })).status).toBe(200);
    expect((await http(`${app.url}/v/k2`, { method: 'POST', token, body: value })).status).toBe(201);
  });
});
