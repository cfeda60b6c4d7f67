import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { Addition, Conformance, healed, Operations, ResponseSpec } from '../support/conformance';
import { HttpResult, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Every native operation (hits, misses, errors) driven over real HTTP, each response's status,
 * Content-Type and body validated against the upstream Akka-Cache OpenAPI document
 * `akka-cache-jwt-v3.0.4.yaml`. The document is not part of this repository: this check is not
 * in `npm test`; `npm run test:upstream` runs it with UPSTREAM_SPECS_DIR naming the directory
 * that holds the document (`.ci/run` does so when it has one).
 */
const SPECS_DIR = process.env.UPSTREAM_SPECS_DIR;
if (!SPECS_DIR) throw new Error('UPSTREAM_SPECS_DIR must name the directory holding akka-cache-jwt-v3.0.4.yaml');
const SPEC = resolve(SPECS_DIR, 'akka-cache-jwt-v3.0.4.yaml');
const doc = parse(readFileSync(SPEC, 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>>;
  components: { schemas: Record<string, any> };
};
const SPEC_ID = 'akka-cache-openapi';

const JSON_TYPE = /^application\/json\b/;
/** cachelog's native error body: the document declares no body for its error statuses. */
const NATIVE_ERROR: ResponseSpec = {
  contentType: JSON_TYPE,
  schema: {
    type: 'object',
    required: ['code', 'message'],
    additionalProperties: false,
    properties: { code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' }, message: { type: 'string', minLength: 1 } },
  },
};

/** The document's operations as the checker reads them: its schemas, and our error body where it declares none. */
function operationsOf(): Operations {
  const operations: Operations = {};
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (method === 'parameters') continue;
      const statuses: Record<number, ResponseSpec> = {};
      for (const [status, response] of Object.entries(operation.responses)) {
        const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
        statuses[Number(status)] =
          type !== undefined
            ? { contentType: new RegExp(`^${type.replace('/', '\\/')}\\b`), schema: type === 'application/json' ? { $ref: `${SPEC_ID}${media!.schema.$ref}` } : undefined }
            : Number(status) < 300
              ? { empty: true }
              : NATIVE_ERROR;
      }
      operations[`${method.toUpperCase()} ${path}`] = statuses;
    }
  }
  return operations;
}

/** Statuses the document does not list, each answered on purpose with the native error body (304: none). */
const ADDITIONS: Record<number, Addition> = {
  304: { why: '`If-None-Match` matches the cache ETag (docs/history.md)', response: { empty: true } },
  401: { why: 'no, invalid or expired token: the document declares JWT security on every operation but no 401', response: NATIVE_ERROR },
  405: { why: 'a verb the path does not serve, with `Allow`', response: NATIVE_ERROR },
  413: { why: 'a value over `MAX_VALUE_BYTES`', response: NATIVE_ERROR },
  415: { why: 'a JSON body sent to a binary write', response: NATIVE_ERROR },
  409: { why: 'the org has `MAX_CACHES_PER_ORG` caches (`CACHE_LIMIT_REACHED`)', response: NATIVE_ERROR },
  429: { why: "the token's rate limit (`RATE_LIMITS`)", response: NATIVE_ERROR },
  503: { why: 'the journal cannot be written (`JOURNAL_UNAVAILABLE`)', response: NATIVE_ERROR },
};

/** Where cachelog knowingly answers differently; listed in the README's decisions and docs/native.md. */
const DEVIATIONS: Record<string, Addition> = {
  'GET /cacheName/list 200': {
    why: 'a JSON array of {cacheName, description}, as the REST API document shows; the OpenAPI document wraps it as {cacheNameList: [...]}',
    response: { contentType: JSON_TYPE, schema: { type: 'array', items: doc.components.schemas.cacheNameListResponse.properties.cacheNameList.items } },
  },
};

const NEVER_ANSWERED: Record<string, string> = {
  'GET /cacheName/list 400': 'the call takes no input that could be refused',
};

describe('native API against the upstream Akka-Cache OpenAPI document (v3.0.4)', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'openapi' });
  const conformance = new Conformance({
    operations: operationsOf(),
    additions: ADDITIONS,
    deviations: DEVIATIONS,
    neverAnswered: NEVER_ANSWERED,
    schemas: [{ $id: SPEC_ID, components: doc.components }],
  });

  beforeAll(async () => (app = await startTestApp({ env: { MAX_VALUE_BYTES: '1000', RATE_LIMITS: 'free=100000,trickle=1', RATE_LIMIT_WINDOW_SECONDS: '3600', JOURNAL_REOPEN_MAX_BACKOFF_MS: '200', MAX_CACHES_PER_ORG: '20' } })));
  afterAll(() => app?.dispose());

  /** Sends `METHOD /template` with the params filled in (URL-encoded) and checks the answer. */
  async function call(
    operation: string,
    params: Record<string, string> = {},
    options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const [method, template] = operation.split(' ');
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
    const response = await http(`${app.url}${path}`, {
      method,
      body: options.body,
      headers: options.headers,
      token: options.token === null ? undefined : (options.token ?? token),
    });
    return conformance.check(operation, response);
  }
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('cache names: create, update, get, keys, list, flush, delete (hits and misses)', async () => {
    expect((await call('POST /cacheName', {}, { body: { cacheName: 'names', description: 'first' } })).status).toBe(201);
    expect((await call('POST /cacheName', {}, { body: { description: 'no name' } })).status).toBe(400);
    expect((await call('PUT /cacheName', {}, { body: { cacheName: 'names', description: 'changed' } })).status).toBe(202);
    expect((await call('PUT /cacheName', {}, { body: { cacheName: 'never-created', description: 'x' } })).status).toBe(400);
    const got = await call('GET /cacheName/{cacheName}', { cacheName: 'names' });
    expect(got.json()).toEqual({ cacheName: 'names', description: 'changed', deleted: false, keyCount: 0, valueBytes: 0 });
    expect((await call('GET /cacheName/{cacheName}', { cacheName: 'never-created' })).status).toBe(400);
    await call('POST /{cacheName}/{key}', { cacheName: 'names', key: 'k1' }, { body: Buffer.from('v') });
    expect((await call('GET /cacheName/{cacheName}/keys', { cacheName: 'names' })).json()).toEqual({ cacheName: 'names', keys: ['k1'] });
    expect((await call('GET /cacheName/{cacheName}/keys', { cacheName: 'never-created' })).status).toBe(400);
    expect((await call('GET /cacheName/list')).json()).toEqual([{ cacheName: 'names', description: 'changed' }]);
    expect((await call('PUT /cacheName/{cacheName}/flush', { cacheName: 'names' })).status).toBe(202);
    expect((await call('PUT /cacheName/{cacheName}/flush', { cacheName: 'never-created' })).status).toBe(400);
    expect((await call('DELETE /cacheName/{cacheName}', { cacheName: 'names' })).status).toBe(202);
    expect((await call('DELETE /cacheName/{cacheName}', { cacheName: 'names' })).status).toBe(400);
    expect((await call('GET /cacheName/{cacheName}', { cacheName: 'names' })).json()).toEqual({ cacheName: 'names', description: 'changed', deleted: true, keyCount: 0, valueBytes: 0 });
  });

  it('binary values: set, set with TTL, get, delete (hits, misses, bad input, additions)', async () => {
    const key = { cacheName: 'bin', key: 'k' };
    expect((await call('POST /{cacheName}/{key}', key, { body: Buffer.from([0, 1, 2, 255]) })).status).toBe(201);
    expect((await call('POST /{cacheName}/{key}', { cacheName: 'bin', key: 'x'.repeat(1025) }, { body: Buffer.from('v') })).status).toBe(400);
    expect((await call('POST /{cacheName}/{key}', key, { body: Buffer.alloc(1001) })).status).toBe(413);
    expect((await call('POST /{cacheName}/{key}', key, { body: { not: 'bytes' } })).status).toBe(415);
    expect((await call('POST /{cacheName}/{key}/{ttlSeconds}', { ...key, ttlSeconds: '30' }, { body: Buffer.from('ttl') })).status).toBe(201);
    expect((await call('POST /{cacheName}/{key}/{ttlSeconds}', { ...key, ttlSeconds: 'soon' }, { body: Buffer.from('ttl') })).status).toBe(400);
    const hit = await call('GET /{cacheName}/{key}', key);
    expect(hit.text).toBe('ttl');
    expect((await call('GET /{cacheName}/{key}', key, { headers: { 'if-none-match': hit.headers.get('etag')! } })).status).toBe(304);
    expect((await call('GET /{cacheName}/{key}', { cacheName: 'bin', key: 'missing' })).status).toBe(404);
    expect((await call('GET /{cacheName}/{key}', { cacheName: 'bin', key: 'x'.repeat(1025) })).status).toBe(400);
    expect((await call('GET /{cacheName}/{key}', key, { token: null })).status).toBe(401);
    expect((await call('GET /{cacheName}/{key}', key, { token: 'not.a.jwt' })).status).toBe(401);
    expect((await call('DELETE /{cacheName}/{key}', key)).status).toBe(202);
    expect((await call('DELETE /{cacheName}/{key}', key)).status).toBe(400);
  });

  it('JSON values: /set and /get/{cacheName}/{key} (a miss answers "value": "" as the schema requires)', async () => {
    expect((await call('POST /set', {}, { body: { cacheName: 'js', key: 'k', value: b64('hello'), ttlSeconds: 60 } })).status).toBe(201);
    expect((await call('POST /set', {}, { body: { cacheName: 'js', key: 'k', value: 'not base64!' } })).status).toBe(400);
    expect((await call('POST /set', {}, { body: { cacheName: 'js', key: 'k', value: b64('x'.repeat(1001)) } })).status).toBe(413);
    expect((await call('GET /get/{cacheName}/{key}', { cacheName: 'js', key: 'k' })).json()).toEqual({ cacheName: 'js', key: 'k', success: true, value: b64('hello'), expiresAt: expect.any(String) }); // set with ttlSeconds: 60
    expect((await call('GET /get/{cacheName}/{key}', { cacheName: 'js', key: 'nope' })).json()).toEqual({ cacheName: 'js', key: 'nope', success: false, value: '', expiresAt: null });
    expect((await call('GET /get/{cacheName}/{key}', { cacheName: 'js', key: 'x'.repeat(1025) })).status).toBe(400);
  });

  it('batches: set, get (hits and misses), delete, and malformed bodies', async () => {
    const set = await call('POST /batch', {}, { body: { cacheRequests: [{ cacheName: 'bt', key: 'a', value: b64('1') }, { cacheName: 'bt', key: 'b', value: b64('2'), ttlSeconds: 10 }] } });
    expect(set.json()).toEqual({ complete: true, results: [{ cacheName: 'bt', key: 'a', success: true }, { cacheName: 'bt', key: 'b', success: true }] });
    expect((await call('POST /batch', {}, { body: { cacheRequests: [{ cacheName: 'bt', key: 'a' }] } })).status).toBe(400);
    const got = await call('POST /batch/get', {}, { body: { getCachedBatch: [{ cacheName: 'bt', key: 'a' }, { cacheName: 'bt', key: 'zz' }] } });
    expect(got.json().results).toEqual([
      { cacheName: 'bt', key: 'a', success: true, value: b64('1') },
      { cacheName: 'bt', key: 'zz', success: false, value: '' },
    ]);
    expect((await call('POST /batch/get', {}, { body: { getCachedBatch: 'all' } })).status).toBe(400);
    const deleted = await call('DELETE /batch', {}, { body: { getCachedBatch: [{ cacheName: 'bt', key: 'a' }, { cacheName: 'bt', key: 'zz' }] } });
    expect(deleted.json()).toEqual({ success: false, cacheDeleteResponses: [{ cacheName: 'bt', key: 'a', success: true }, { cacheName: 'bt', key: 'zz', success: false }] });
    expect((await call('DELETE /batch', {}, { body: { getCachedBatch: [{ key: 'a' }] } })).status).toBe(400);
  });

  it('405 with Allow and 429 are answered in the native error format', async () => {
    expect((await call('POST /batch/get', {}, { body: undefined, headers: {} })).status).toBe(400); // no body at all
    const wrongVerb = conformance.checkAddition('GET /set', await http(`${app.url}/set`, { method: 'GET', token }));
    expect(wrongVerb.status).toBe(405);
    expect(wrongVerb.headers.get('allow')).toBe('POST');
    const trickle = tokenFor({ org: 'openapi', serviceLevel: 'trickle' });
    expect((await call('GET /cacheName/list', {}, { token: trickle })).status).toBe(200);
    expect((await call('GET /cacheName/list', {}, { token: trickle })).status).toBe(429);
  });

  it('409 when the org has MAX_CACHES_PER_ORG caches', async () => {
    const crowded = tokenFor({ org: 'openapi-crowded' });
    for (let i = 0; i < 20; i++) expect((await call('POST /cacheName', {}, { token: crowded, body: { cacheName: `c${i}` } })).status).toBe(201);
    expect((await call('POST /cacheName', {}, { token: crowded, body: { cacheName: 'one-too-many' } })).status).toBe(409);
  });

  it('503 when the journal cannot be written, in the native error format', async () => {
    const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
    await storage.db.close();
    try {
      // A cache already in memory: the write itself fails (and the journal starts reopening the database).
      expect((await call('POST /{cacheName}/{key}', { cacheName: 'bin', key: 'down' }, { body: Buffer.from('v') })).status).toBe(503);
    } finally {
      await healed(() => http(`${app.url}/bin/down`, { method: 'POST', token, body: Buffer.from('v') }));
    }
  });

  it('drove every operation and every status the document declares, and produced every listed addition', () => {
    conformance.assertCoverage();
  });
});
