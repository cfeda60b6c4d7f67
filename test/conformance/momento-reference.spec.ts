import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { Addition, Conformance, healed, Operations, ResponseSpec } from '../support/conformance';
import { HttpResult, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Every call of Momento's HTTP API reference driven over
 * real HTTP, each response's status, Content-Type and body checked against what the reference
 * says (transcribed below). The table in docs/momento.md lists the same calls and statuses.
 */
const TEXT = /^text\/plain\b/;
/** "See the body of the message for further details": a plain-text message. */
const message = (text: RegExp = /\S/): ResponseSpec => ({ contentType: TEXT, text });
const NO_CONTENT: ResponseSpec = { empty: true };

const OPERATIONS: Operations = {
  // Get Value: hit 200 octet-stream (the bytes); miss 404 "Key Not Found" / "Cache Not Found"; 400 bad request.
  'GET /cache/{cacheName}': {
    200: { contentType: /^application\/octet-stream\b/ },
    404: message(/^(Key Not Found|Cache Not Found)$/),
    400: message(),
    401: message(),
    429: message(),
  },
  // Set Value: 204 No Content; 404 "Cache Not Found".
  'PUT /cache/{cacheName}': { 204: NO_CONTENT, 400: message(), 401: message(), 404: message(/^Cache Not Found$/), 429: message() },
  // Delete Value: 204 No Content; 404 "Cache Not Found".
  'DELETE /cache/{cacheName}': { 204: NO_CONTENT, 400: message(), 401: message(), 404: message(/^Cache Not Found$/), 429: message() },
};

/** Statuses the reference does not list, answered on purpose, each with a plain-text message. */
const ADDITIONS: Record<number, Addition> = {
  405: { why: 'a verb `/cache/{cacheName}` does not serve (POST, PATCH), with `Allow`', response: message() },
  413: { why: 'a value larger than `MAX_VALUE_BYTES`', response: message() },
  415: { why: 'a PUT body sent as application/json', response: message() },
  503: { why: 'the journal cannot be written', response: message() },
};

/**
 * The reference's 403 (the token does not grant access to the resource) and 500 are never
 * answered: cachelog tokens carry no per-cache permissions (another org's cache is simply not
 * there: 404 "Cache Not Found"), and no input produces a 500 (fuzzed).
 */

describe("Momento HTTP API against Momento's HTTP API reference", () => {
  let app: TestApp;
  const token = tokenFor({ org: 'momref' });
  const conformance = new Conformance({ operations: OPERATIONS, additions: ADDITIONS });

  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_VALUE_BYTES: '1000', RATE_LIMITS: 'free=100000,trickle=1', RATE_LIMIT_WINDOW_SECONDS: '3600', JOURNAL_REOPEN_MAX_BACKOFF_MS: '200' } });
    expect((await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'm1' } })).status).toBe(201);
  });
  afterAll(() => app?.dispose());

  async function call(operation: string, cacheName: string, query: string, options: { body?: Buffer | string; token?: string | null; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const [method] = operation.split(' ');
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== null) headers.authorization = options.token ?? token;
    const response = await http(`${app.url}/cache/${encodeURIComponent(cacheName)}?${query}`, { method, body: options.body, headers });
    return conformance.check(operation, response);
  }

  it('set, get and delete: hits, misses, missing caches and bad requests', async () => {
    expect((await call('PUT /cache/{cacheName}', 'm1', 'key=k&ttl_seconds=300', { body: Buffer.from([0, 1, 255]) })).status).toBe(204);
    expect((await call('PUT /cache/{cacheName}', 'm1', 'key=k', { body: Buffer.from('no ttl') })).status).toBe(400);
    expect((await call('PUT /cache/{cacheName}', 'nowhere', 'key=k&ttl_seconds=60', { body: Buffer.from('v') })).status).toBe(404);
    const hit = await call('GET /cache/{cacheName}', 'm1', `key_base64=${Buffer.from('k').toString('base64url')}`);
    expect(hit.body.equals(Buffer.from([0, 1, 255]))).toBe(true);
    expect((await call('GET /cache/{cacheName}', 'm1', 'key=absent')).text).toBe('Key Not Found');
    expect((await call('GET /cache/{cacheName}', 'nowhere', 'key=k')).text).toBe('Cache Not Found');
    expect((await call('GET /cache/{cacheName}', 'm1', '')).status).toBe(400);
    expect((await call('DELETE /cache/{cacheName}', 'm1', 'key=k')).status).toBe(204);
    expect((await call('DELETE /cache/{cacheName}', 'm1', 'key=k')).status).toBe(204); // idempotent
    expect((await call('DELETE /cache/{cacheName}', 'nowhere', 'key=k')).status).toBe(404);
    expect((await call('DELETE /cache/{cacheName}', 'm1', 'key=a&key_base64=YQ')).status).toBe(400);
  });

  it('401 and 429 on every call; the additions 405, 413 and 415', async () => {
    for (const operation of Object.keys(OPERATIONS)) {
      expect((await call(operation, 'm1', 'key=k&ttl_seconds=60', { token: null, body: operation.startsWith('PUT') ? Buffer.from('v') : undefined })).status).toBe(401);
      const trickle = tokenFor({ org: 'momref', serviceLevel: 'trickle', name: operation });
      await call(operation, 'm1', 'key=k&ttl_seconds=60', { token: trickle, body: operation.startsWith('PUT') ? Buffer.from('v') : undefined });
      expect((await call(operation, 'm1', 'key=k&ttl_seconds=60', { token: trickle, body: operation.startsWith('PUT') ? Buffer.from('v') : undefined })).status).toBe(429);
    }
    const wrongVerb = conformance.checkAddition('POST /cache/{cacheName}', await http(`${app.url}/cache/m1?key=k`, { method: 'POST', headers: { authorization: token }, body: Buffer.from('v') }));
    expect(wrongVerb.status).toBe(405);
    expect(wrongVerb.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect((await call('PUT /cache/{cacheName}', 'm1', 'key=big&ttl_seconds=60', { body: Buffer.alloc(1001) })).status).toBe(413);
    expect((await call('PUT /cache/{cacheName}', 'm1', 'key=j&ttl_seconds=60', { body: '{"a":1}', headers: { 'content-type': 'application/json' } })).status).toBe(415);
  });

  it('503 when the journal cannot be written', async () => {
    const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
    await storage.db.close();
    try {
      expect((await call('PUT /cache/{cacheName}', 'm1', 'key=down&ttl_seconds=60', { body: Buffer.from('v') })).status).toBe(503);
    } finally {
      await healed(() => http(`${app.url}/m1/down`, { method: 'POST', token: token, body: Buffer.from('v') }));
    }
  });

  it('drove every call and status of the reference, and produced every listed addition', () => {
    conformance.assertCoverage();
  });
});
