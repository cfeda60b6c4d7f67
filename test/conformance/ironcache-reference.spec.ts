import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { Addition, Conformance, healed, Operations, ResponseSpec } from '../support/conformance';
import { HttpResult, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Every call of the IronCache REST reference driven over
 * real HTTP, each response's status, Content-Type and body checked against the shapes the
 * reference shows (transcribed below as JSON Schemas). The table in docs/ironcache.md lists
 * the same calls, statuses and bodies.
 */
const JSON_TYPE = /^application\/json\b/;
const object = (properties: Record<string, object>, required = Object.keys(properties)) => ({ type: 'object', required, properties });
/** "All responses are in JSON ... `{ "msg": "some success or error message" }`". */
const msg = (text?: string): ResponseSpec => ({ contentType: JSON_TYPE, schema: object({ msg: text === undefined ? { type: 'string', minLength: 1 } : { const: text } }) });
const ERROR = msg();

const OPERATIONS: Operations = {
  // List Caches: `[{"project_id": ..., "name": ...}]`; `page` is validated.
  'GET /caches': {
    200: { contentType: JSON_TYPE, schema: { type: 'array', items: object({ project_id: { type: 'string' }, name: { type: 'string' } }) } },
    400: ERROR,
  },
  // Get Info About a Cache: `{"size": ...}` (the reference's example is a placeholder string; see DEVIATIONS).
  'GET /caches/{cache}': { 200: { contentType: JSON_TYPE, schema: object({ size: { type: 'integer', minimum: 0 } }) }, 404: ERROR },
  'DELETE /caches/{cache}': { 200: msg('Deleted.'), 404: ERROR },
  'POST /caches/{cache}/clear': { 200: msg('Cleared.'), 404: ERROR },
  // Put an Item: `{"msg": "Stored."}`; 400 wrong types, 404 `replace` of a missing item, 406 no `value`.
  'PUT /caches/{cache}/items/{key}': { 200: msg('Stored.'), 400: ERROR, 404: ERROR, 406: ERROR },
  // Increment: `{"msg": "Added", "value": 132}`; 400 a non-integer item, 406 no `amount`.
  'POST /caches/{cache}/items/{key}/increment': {
    200: { contentType: JSON_TYPE, schema: object({ msg: { const: 'Added' }, value: { type: 'integer' } }) },
    400: ERROR,
    406: ERROR,
  },
  // Get an Item: `{"cache", "key", "value", "cas"}`.
  'GET /caches/{cache}/items/{key}': {
    200: { contentType: JSON_TYPE, schema: object({ cache: { type: 'string' }, key: { type: 'string' }, value: { type: 'string' }, cas: { type: 'string' } }) },
    404: ERROR,
  },
  'DELETE /caches/{cache}/items/{key}': { 200: msg('Deleted.'), 404: ERROR },
};

/** The reference's status table applies to every endpoint; these are answered by any call, `{"msg"}` each. */
const ADDITIONS: Record<number, Addition> = {
  401: { why: 'reference: the OAuth token is not provided or invalid', response: ERROR },
  403: { why: "reference: project suspended, resource limits (here: a project that is not the token's org, the org's byte quota)", response: ERROR },
  405: { why: 'reference: a verb the endpoint does not support (with `Allow`)', response: ERROR },
  503: { why: 'reference: a temporary error, retry with backoff (here: the journal cannot be written)', response: ERROR },
  409: { why: 'not in the reference: `add` of an existing item, a `cas` that does not match (nothing stored)', response: ERROR },
  413: { why: 'not in the reference: a body larger than the JSON body limit', response: ERROR },
  429: { why: "not in the reference: the token's rate limit", response: ERROR },
};

/** Where cachelog knowingly answers differently from the reference (also in docs/ironcache.md). */
const DEVIATIONS: Record<string, Addition> = {
  'GET /caches/{cache}/items/{key} 200': {
    why: '`cas` is a JSON number (the reference shows a string); both forms are accepted back in a PUT',
    response: {
      contentType: JSON_TYPE,
      schema: object({ cache: { type: 'string' }, key: { type: 'string' }, value: { type: 'string' }, cas: { type: 'integer', minimum: 1 } }),
    },
  },
};

/** Statuses of the reference's table that cachelog never answers, by design: 201 (every success is 200, which clients accept) and 500 (fuzzed: no input produces one). */

describe('IronCache API against the IronCache REST reference', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'ironref' });
  const conformance = new Conformance({ operations: OPERATIONS, additions: ADDITIONS, deviations: DEVIATIONS });

  beforeAll(async () => (app = await startTestApp({ env: { MAX_VALUE_BYTES: '1000', RATE_LIMITS: 'free=100000,trickle=1', RATE_LIMIT_WINDOW_SECONDS: '3600', JOURNAL_REOPEN_MAX_BACKOFF_MS: '200' } })));
  afterAll(() => app?.dispose());

  async function call(operation: string, params: Record<string, string> = {}, options: { json?: string; token?: string | null; project?: string } = {}): Promise<HttpResult> {
    const [method, template] = operation.split(' ');
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
    const headers: Record<string, string> = {};
    if (options.token !== null) headers.authorization = `OAuth ${options.token ?? token}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await http(`${app.url}/1/projects/${options.project ?? 'ironref'}${path}${params.query ?? ''}`, { method, body: options.json, headers });
    return conformance.check(operation, response);
  }

  it('items: put, get, increment, delete (hits, misses, bad input)', async () => {
    const item = { cache: 'c1', key: 'k1' };
    expect((await call('PUT /caches/{cache}/items/{key}', item, { json: '{"value": "hello", "expires_in": 3600}' })).status).toBe(200);
    expect((await call('PUT /caches/{cache}/items/{key}', item, { json: '{"value": {"nested": true}}' })).status).toBe(400);
    expect((await call('PUT /caches/{cache}/items/{key}', item, { json: '{"expires_in": 10}' })).status).toBe(406);
    expect((await call('PUT /caches/{cache}/items/{key}', { cache: 'c1', key: 'absent' }, { json: '{"value": "x", "replace": true}' })).status).toBe(404);
    expect((await call('PUT /caches/{cache}/items/{key}', item, { json: '{"value": "x", "add": true}' })).status).toBe(409);
    const got = await call('GET /caches/{cache}/items/{key}', item);
    expect(got.json()).toEqual({ cache: 'c1', key: 'k1', value: 'hello', cas: expect.any(Number) });
    expect((await call('GET /caches/{cache}/items/{key}', { cache: 'c1', key: 'absent' })).status).toBe(404);
    const counter = { cache: 'c1', key: 'n' };
    expect((await call('POST /caches/{cache}/items/{key}/increment', counter, { json: '{"amount": 10}' })).json()).toEqual({ msg: 'Added', value: 10 });
    expect((await call('POST /caches/{cache}/items/{key}/increment', item, { json: '{"amount": 1}' })).status).toBe(400);
    expect((await call('POST /caches/{cache}/items/{key}/increment', counter, { json: '{}' })).status).toBe(406);
    expect((await call('DELETE /caches/{cache}/items/{key}', item)).status).toBe(200);
    expect((await call('DELETE /caches/{cache}/items/{key}', item)).status).toBe(404);
  });

  it('caches: list, info, clear, delete (hits and misses)', async () => {
    await call('PUT /caches/{cache}/items/{key}', { cache: 'c2', key: 'k' }, { json: '{"value": 1}' });
    const list = await call('GET /caches', { query: '?page=0&per_page=30' });
    expect(list.json()).toEqual(expect.arrayContaining([{ project_id: 'ironref', name: 'c2' }]));
    expect((await call('GET /caches', { query: '?page=-1' })).status).toBe(400);
    expect((await call('GET /caches/{cache}', { cache: 'c2' })).json()).toEqual({ size: 1 });
    expect((await call('GET /caches/{cache}', { cache: 'never' })).status).toBe(404);
    expect((await call('POST /caches/{cache}/clear', { cache: 'c2' })).status).toBe(200);
    expect((await call('POST /caches/{cache}/clear', { cache: 'never' })).status).toBe(404);
    expect((await call('DELETE /caches/{cache}', { cache: 'c2' })).status).toBe(200);
    expect((await call('DELETE /caches/{cache}', { cache: 'c2' })).status).toBe(404);
  });

  it('the reference-wide statuses: 401, 403, 405 (with Allow), and the additions 413 and 429', async () => {
    expect((await call('GET /caches', {}, { token: null })).status).toBe(401);
    expect((await call('GET /caches', {}, { project: 'someone-else' })).status).toBe(403);
    const wrongVerb = await http(`${app.url}/1/projects/ironref/caches/c1/clear`, { method: 'GET', headers: { authorization: `OAuth ${token}` } });
    expect(conformance.checkAddition('GET /caches/{cache}/clear', wrongVerb).status).toBe(405);
    expect(wrongVerb.headers.get('allow')).toBe('POST');
    const oversized = `{"value": "${'x'.repeat(1_200_000)}"}`;
    expect((await call('PUT /caches/{cache}/items/{key}', { cache: 'c1', key: 'big' }, { json: oversized })).status).toBe(413);
    const trickle = tokenFor({ org: 'ironref', serviceLevel: 'trickle' });
    expect((await call('GET /caches', {}, { token: trickle })).status).toBe(200);
    expect((await call('GET /caches', {}, { token: trickle })).status).toBe(429);
  });

  it('503 when the journal cannot be written', async () => {
    const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
    await storage.db.close();
    try {
      // A cache already in memory: the write itself fails (and the journal starts reopening the database).
      expect((await call('PUT /caches/{cache}/items/{key}', { cache: 'c1', key: 'down' }, { json: '{"value": "v"}' })).status).toBe(503);
    } finally {
      await healed(() => http(`${app.url}/c1/down`, { method: 'POST', token, body: Buffer.from('v') }));
    }
  });

  it('drove every call and status of the reference, and produced every listed addition', () => {
    conformance.assertCoverage();
  });
});
