import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const MiB = 1024 * 1024;

/**
 * Event-loop time a request may take before it is refused. IronCache item bodies were taken up
 * to base64 of MAX_VALUE_BYTES + 1 MiB (6.6 MB by default) although the value travels as a
 * JSON string, and parsed a character at a time (1–2 s of the event loop per request, even when
 * then refused). Now the body is bounded by what a valid request can be (MAX_VALUE_BYTES +
 * MAX_CONTROL_BODY_BYTES) and refused before it is read; the long value is decoded natively.
 * And a capacity cut refused with 409 is refused before it chooses its evictions.
 */
describe('IronCache item bodies: bounded by a valid request, refused before parsing', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'iron', name: 'w' });
  const item = (key: string) => `/1/projects/iron/caches/c/items/${key}`;
  const put = (key: string, body: string, contentType = 'application/json') =>
    http(`${app.url}${item(key)}`, { method: 'PUT', body, headers: { authorization: `OAuth ${token}`, 'content-type': contentType } });
  beforeAll(async () => (app = await startTestApp({ env: { MAX_VALUE_BYTES: String(MiB), MAX_CONTROL_BODY_BYTES: '65536' } })));
  afterAll(() => app.dispose());

  it('a body larger than the largest valid request is 413 before it is read', async () => {
    const refused = await put('big', JSON.stringify({ value: 'x'.repeat(MiB + 100 * 1024) }));
    expect(refused.status).toBe(413);
    expect(refused.json()).toEqual({ msg: expect.stringMatching(/request body is larger than this route takes \(1114112 bytes/) });
    expect(refused.headers.get('connection')).toBe('close');
  });

  it('the same bound without a JSON content type (IronCache reads any body as JSON)', async () => {
    const refused = await put('big', JSON.stringify({ value: 'x'.repeat(MiB + 100 * 1024) }), 'text/plain');
    expect(refused.status).toBe(413);
  });

  it('a value of MAX_VALUE_BYTES is still stored and read back exactly, with escapes and exact numbers', async () => {
    const value = `${'é'.repeat(1000)}"\\\n${'y'.repeat(MiB - 2000 - 3 - 2)}`;
    expect(Buffer.byteLength(value)).toBe(MiB - 2);
    expect((await put('full', `{"value":${JSON.stringify(value)},"expires_in":9007199254740993}`)).status).toBe(400); // beyond the longest TTL, found exactly
    expect((await put('full', `{"value":${JSON.stringify(value)},"expires_in":3600}`)).status).toBe(200);
    const read = await http(`${app.url}${item('full')}`, { headers: { authorization: `OAuth ${token}` } });
    expect(read.json().value).toBe(value);
  });

  it('a body with a key given twice is still refused', async () => {
    const refused = await put('twice', `{"value":${JSON.stringify('z'.repeat(100_000))},"expires_in":1,"expires_in":2}`);
    expect(refused.status).toBe(400);
  });
});

describe('a capacity cut refused with 409 is refused before its work (settings route)', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'cut', name: 'w' });
  beforeAll(async () => (app = await startTestApp({ env: { MAX_EVENTS_PER_COMMAND: '50' } })));
  afterAll(() => app.dispose());

  it('409 too_many_events naming the count, nothing changed', async () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ cacheName: 'c', key: `k${i}`, value: 'dg==' }));
    expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests: items } })).status).toBe(200);
    const refused = await http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: { capacity: 1 } });
    expect(refused.status).toBe(409);
    expect(refused.json()).toMatchObject({ error: 'too_many_events', error_description: expect.stringMatching(/60 events; MAX_EVENTS_PER_COMMAND is 50/) });
    expect((await http(`${app.url}/cacheName/c/settings`, { token })).json()).toMatchObject({ capacity: 0 });
    expect((await http(`${app.url}/cacheName/c/keys`, { token })).json().keys).toHaveLength(60);
    expect((await http(`${app.url}/cacheName/c/settings`, { method: 'PUT', token, body: { capacity: 11 } })).status).toBe(200);
    expect((await http(`${app.url}/cacheName/c/keys`, { token })).json().keys).toHaveLength(11);
  });
});
