import { request } from 'node:http';
import fc from 'fast-check';
import { Journal } from '../../src/journal/journal';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass's fuzz over names and keys: random Unicode (astral, combining, controls, CJK),
 * lone surrogates, and lengths up to and just past the limits (255 characters for names, 1024
 * for keys, counted in code points), written through the native JSON API and read through all three families. Never a
 * 5xx; a refused input changes nothing; an accepted one reads back identically everywhere.
 */
const ORG = 'fuzz-unicode';
const token = tokenFor({ org: ORG });
const oauth = { authorization: `OAuth ${token}` };
const NAME_MAX = 255;
const KEY_MAX = 1024;

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 4, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE) },
  { weight: 1, arbitrary: fc.constantFrom('缓存', '鍵', '💾', 'é', 'e\u0301', '\u200d', '\u0000', '/', '%', '?', '#', '..', ' ') },
);
/** Text of random pieces, or one character repeated to just under, at, or just past `max` characters. */
const text = (max: number) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.array(piece, { minLength: 1, maxLength: 5 }).map((pieces) => pieces.join('')) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('x', 'é', '缓', '💾'), fc.constantFrom(-1, 0, 1))
        .map(([char, delta]) => char.repeat(max + delta)),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...LONE), fc.nat(max)).map(([lone, at]) => 'y'.repeat(at) + lone) },
  );

const isWellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
/** Limits count characters (code points), in bodies and paths alike. */
const acceptable = (s: string, max: number) => s.length >= 1 && isWellFormed(s) && [...s].length <= max;
const segment = encodeURIComponent;

/**
 * A request with the path sent exactly as given: fetch would resolve `.` and `..` segments
 * (even percent-encoded ones) before sending, and a key may well be `..`.
 */
function send(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | object) {
  const { hostname, port } = new URL(url);
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const allHeaders = { ...headers, ...(payload ? { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json', 'content-length': String(payload.length) } : {}) };
  return new Promise<{ status: number; text: string; json(): any }>((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers: allHeaders, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
const bearer = { authorization: `Bearer ${token}` };

describe('fuzz: Unicode names and keys through every family', () => {
  let app: TestApp;
  let journal: Journal;
  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } });
    journal = app.app.get(Journal);
  });
  afterAll(() => app.dispose());

  it('never a 5xx; refused inputs change nothing; accepted ones read back identically in all three families', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(text(NAME_MAX), text(KEY_MAX), fc.string({ maxLength: 12, unit: 'grapheme-ascii' }), async (cacheName, key, value) => {
        await journal.whenIdle();
        const before = journal.highestOffset;
        const write = await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName, key, value: Buffer.from(value).toString('base64') } });
        expect(write.status).toBeLessThan(500);
        if (!acceptable(cacheName, NAME_MAX) || !acceptable(key, KEY_MAX)) {
          refused++;
          expect(write.status).toBe(400);
          await journal.whenIdle();
          expect(journal.highestOffset).toBe(before);
          return;
        }
        accepted++;
        expect(write.status).toBe(201);
        const name = segment(cacheName);
        const k = segment(key);
        const native = await send(app.url, 'GET', `/${name}/${k}`, bearer);
        expect({ status: native.status, text: native.text }).toEqual({ status: 200, text: value });
        const nativeJson = await send(app.url, 'GET', `/get/${name}/${k}`, bearer);
        expect(nativeJson.json()).toEqual({ cacheName, key, success: true, value: Buffer.from(value).toString('base64'), expiresAt: null });
        const batch = await http(`${app.url}/batch/get`, { method: 'POST', token, body: { getCachedBatch: [{ cacheName, key }] } });
        expect(batch.json().results[0]).toEqual({ cacheName, key, success: true, value: Buffer.from(value).toString('base64') });
        const momento = await send(app.url, 'GET', `/cache/${name}?key=${k}&token=${token}`);
        expect({ status: momento.status, text: momento.text }).toEqual({ status: 200, text: value });
        const momentoBase64 = await send(app.url, 'GET', `/cache/${name}?key_base64=${Buffer.from(key).toString('base64url')}&token=${token}`);
        expect(momentoBase64.text).toBe(value);
        const iron = await send(app.url, 'GET', `/1/projects/${ORG}/caches/${name}/items/${k}`, oauth);
        expect({ status: iron.status, value: iron.json().value, key: iron.json().key, cache: iron.json().cache }).toEqual({ status: 200, value, key, cache: cacheName });
        // ... and a write through IronCache reads back through the native API.
        expect((await send(app.url, 'PUT', `/1/projects/${ORG}/caches/${name}/items/${k}`, oauth, { value: `${value}!` })).status).toBe(200);
        expect((await send(app.url, 'GET', `/${name}/${k}`, bearer)).text).toBe(`${value}!`);
        expect((await send(app.url, 'PUT', `/cache/${name}?key=${k}&ttl_seconds=60&token=${token}`, {}, Buffer.from(value))).status).toBe(204);
        expect((await send(app.url, 'GET', `/${name}/${k}`, bearer)).text).toBe(value);
      }),
      { numRuns: 300, seed: 80808 },
    );
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(20);
  });

  it('names and keys with lone surrogates cannot be sent in a path or a query: percent-encoded halves are 400 in every family', async () => {
    const half = '%ED%A0%80'; // the UTF-8-like bytes of U+D800, which no decoder accepts
    for (const [path, headers] of [
      [`/c${half}/k`, { authorization: `Bearer ${token}` }],
      [`/get/c/k${half}`, { authorization: `Bearer ${token}` }],
      [`/1/projects/${ORG}/caches/c${half}/items/k`, oauth],
      [`/cache/c${half}?key=k&token=${token}`, {}],
    ] as Array<[string, Record<string, string>]>) {
      const answer = await http(`${app.url}${path}`, { headers });
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
    }
  });
});
