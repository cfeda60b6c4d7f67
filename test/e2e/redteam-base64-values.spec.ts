import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Red-team pass after the hardening pass (5xx class): a base64 value near MAX_VALUE_BYTES in `POST /set`
 * or `POST /batch` was checked with a regular expression whose repetition recursed once per
 * 4 characters; past ~4 million characters V8 overflowed its stack and the request was a 500,
 * with a value the service promises to take. The check is a linear scan now.
 */
describe('red team: base64 values up to MAX_VALUE_BYTES through the JSON routes', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'big-values' });
  const MiB = 1024 * 1024;
  const value = Buffer.alloc(4 * MiB, 0x5a);
  value.write('start', 0);
  value.write('end', value.length - 3);
  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } });
  });
  afterAll(() => app.dispose());

  it('POST /set stores a value of exactly MAX_VALUE_BYTES and reads it back', async () => {
    const answer = await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'c', key: 'k', value: value.toString('base64') } });
    expect(answer.status).toBe(201);
    expect((await http(`${app.url}/c/k`, { token })).body.equals(value)).toBe(true);
  });

  it('POST /batch takes an element of MAX_VALUE_BYTES', async () => {
    const answer = await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests: [{ cacheName: 'c', key: 'b', value: value.toString('base64') }] } });
    expect(answer.status).toBe(200);
    expect(answer.json().results).toEqual([{ cacheName: 'c', key: 'b', success: true }]);
    expect((await http(`${app.url}/c/b`, { token })).body.equals(value)).toBe(true);
  });

  it('a long text that is not base64 is 400 and stores nothing', async () => {
    for (const bad of [`${'A'.repeat(4 * MiB)}*AAA`, `${'A'.repeat(4 * MiB + 1)}`, `${'A'.repeat(4 * MiB)}A===`, `=${'A'.repeat(4 * MiB - 1)}`, `${'A'.repeat(4 * MiB - 4)}A=A=`]) {
      const answer = await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'c', key: 'bad', value: bad } });
      expect(answer.status).toBe(400);
      expect(answer.json()).toEqual({ code: 'INVALID_REQUEST', message: 'value: must be standard base64 (RFC 4648, padded)' });
    }
    expect((await http(`${app.url}/c/bad`, { token })).status).toBe(404);
  });
});
