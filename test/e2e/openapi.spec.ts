import { execFileSync } from 'node:child_process';
import findMyWay from 'find-my-way';
import { RouteCatalog } from '../../src/api/contract/route-catalog';
import { openApiPath } from '../../src/api/openapi/openapi-document';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

type Operation = { operationId: string; responses: Record<string, unknown>; security?: unknown[] };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> };

/** Validates with @seriousme/openapi-schema-validator (ESM only: run by node itself, outside jest's module system). */
function validateOpenApi(document: Document): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = ''; for await (const chunk of process.stdin) text += chunk;
    const result = await new Validator().validate(JSON.parse(text));
    process.stdout.write(JSON.stringify(result));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(document), cwd: process.cwd() }).toString());
}

describe('OpenAPI 3.1 document (/docs/json) and Swagger UI (/docs)', () => {
  let t: TestApp;
  let document: Document;
  const token = tokenFor({ org: 'docs' });

  beforeAll(async () => {
    // Small limits, so that the cache limit and the point-in-time replay limit answer too.
    t = await startTestApp({ env: { MAX_CACHES_PER_ORG: '2', POINT_IN_TIME_MAX_EVENTS: '1' } });
    const response = await http(`${t.url}/docs/json`);
    expect(response.status).toBe(200);
    document = response.json();
  });
  afterAll(() => t.dispose());

  it('is served without a token and is a valid OpenAPI 3.1 document', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(validateOpenApi(document)).toEqual({ valid: true });
  });

  it('has every route Fastify registered (each verb of each path, 405 and HEAD included)', () => {
    const missing = t.app
      .get(RouteCatalog)
      .routes.filter((route) => document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] === undefined)
      .map((route) => `${route.method} ${route.url}`);
    expect(missing).toEqual([]);
  });

  it('gives every operation its own operationId', () => {
    const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names the security schemes of each family (Bearer, OAuth header, Momento token in header or query)', () => {
    expect(Object.keys((document.components.securitySchemes as object) ?? {})).toEqual(expect.arrayContaining(['bearer', 'ironCacheOAuth', 'ironCacheQuery', 'momentoHeader', 'momentoQuery']));
    expect(document.paths['/cacheName/list'].get.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/cache/{cacheName}'].get.security).toEqual([{ momentoHeader: [] }, { momentoQuery: [] }]);
    expect(document.paths['/1/projects/{projectId}/caches/{cacheName}/items/{key}'].put.security).toContainEqual({ ironCacheOAuth: [] });
    expect(document.paths['/docs/json'].get.security).toEqual([]);
  });

  it('carries the reference documents\' examples', () => {
    const setJson = document.paths['/set'].post as unknown as { requestBody: { content: Record<string, { example: unknown }> } };
    expect(setJson.requestBody.content['application/json'].example).toEqual({ cacheName: 'cache1', key: 'key1', value: 'dGhpcyBpcyB0aGUgcGF5bG9hZCBvZiBvbmU=' });
    const increment = document.paths['/1/projects/{projectId}/caches/{cacheName}/items/{key}/increment'].post as unknown as { requestBody: { content: Record<string, { example: unknown }> } };
    expect(increment.requestBody.content['application/json'].example).toEqual({ amount: 10 });
  });

  /**
   * Every status a route answered to a set of real requests (successes, misses, refusals by the
   * edge, by validation and by the domain, in all families) is in the document for that route.
   */
  it('documents every status each route answered to real requests', async () => {
    const router = findMyWay({ maxParamLength: 12 * 1024 });
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of Object.keys(item)) router.on(method.toUpperCase() as 'GET', path.replace(/\{([^}]+)\}/g, ':$1'), () => undefined, { path, method });
    }
    const undocumented: string[] = [];
    const seen = new Set<number>();
    const call = async (method: string, path: string, options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}) => {
      const response = await http(`${t.url}${path}`, { method, token: options.token === null ? undefined : (options.token ?? token), body: options.body, headers: options.headers });
      seen.add(response.status);
      const found = router.find(method as 'GET', path.split('?')[0]);
      const { path: documented, method: verb } = (found?.store ?? {}) as { path?: string; method?: string };
      if (documented === undefined || document.paths[documented][verb!].responses[String(response.status)] === undefined) {
        undocumented.push(`${method} ${path} -> ${response.status} (${documented ?? 'no path'})`);
      }
      return response;
    };
    const ironAuth = { authorization: `OAuth ${token}` };
    const value = Buffer.from('payload');
    // native
    await call('POST', '/cacheName', { body: { cacheName: 'cache1', description: 'first' } });
    await call('POST', '/cacheName', { body: { cacheName: '' } });
    await call('PUT', '/cacheName', { body: { cacheName: 'cache1', description: 'changed' } });
    await call('GET', '/cacheName/list');
    await call('GET', '/cacheName/list', { token: null });
    await call('GET', '/cacheName/cache1');
    await call('GET', '/cacheName/nope');
    await call('POST', '/cache1/key1', { body: value });
    await call('POST', '/cache1/key1', { body: { not: 'bytes' } });
    await call('POST', '/cache1/key2/30', { body: value });
    await call('POST', '/cache1/key2/-1', { body: value });
    const hit = await call('GET', '/cache1/key1');
    await call('GET', '/cache1/key1', { headers: { 'if-none-match': hit.headers.get('etag')! } });
    await call('GET', '/cache1/missing');
    await call('GET', '/cache1/key1?at=1');
    await call('GET', '/cache1/key1?at=x');
    await call('GET', '/get/cache1/key1?at=3');
    await call('GET', '/cacheName/cache1/keys?at=3');
    await call('GET', '/get/cache1/key1');
    await call('GET', '/get/cache1/missing');
    await call('POST', '/set', { body: { cacheName: 'cache1', key: 'k', value: 'aGVsbG8=' } });
    await call('POST', '/set', { body: { cacheName: 'cache1', key: 'k', value: '!' } });
    await call('POST', '/set', { body: '{"cacheName":', headers: { 'content-type': 'application/json' } });
    await call('POST', '/set', { body: 'x'.repeat(70_000), headers: { 'content-type': 'text/plain' } });
    await call('GET', '/cacheName/cache1/keys');
    await call('POST', '/batch', { body: { cacheRequests: [{ cacheName: 'cache1', key: 'a', value: 'MQ==' }] } });
    await call('POST', '/batch/get', { body: { getCachedBatch: [{ cacheName: 'cache1', key: 'a' }] } });
    await call('DELETE', '/batch', { body: { getCachedBatch: [{ cacheName: 'cache1', key: 'a' }] } });
    await call('DELETE', '/cache1/key2');
    await call('DELETE', '/cache1/key2');
    await call('PATCH', '/set');
    await call('GET', '/set');
    await call('GET', `/cache1/${'k'.repeat(1100)}`);
    // settings
    await call('GET', '/cacheName/cache1/settings');
    await call('PUT', '/cacheName/cache1/settings', { body: { capacity: 10 } });
    await call('PUT', '/cacheName/cache1/settings', { body: { capacity: -1 } });
    await call('GET', '/cacheName/nope/settings');
    // history
    await call('GET', '/cacheName/cache1/events?from=1&limit=10');
    await call('GET', '/cacheName/cache1/events?limit=0');
    await call('GET', '/cacheName/nope/events');
    // tasks
    const list = await call('GET', '/api/v1/cache');
    await call('GET', '/api/v1/cache', { headers: { 'if-none-match': list.headers.get('etag')! } });
    const task = await call('POST', '/api/v1/cache/refresh', { body: { resource_title: 'cache1', action: 'snapshot' } });
    await call('POST', '/api/v1/cache/refresh', { body: { resource_title: 'cache1', action: 'dance' } });
    await call('GET', `/api/v1/cache/state?task_id=${task.json().task_id}`);
    await call('GET', '/api/v1/cache/state?task_id=nope');
    // IronCache
    await call('PUT', '/1/projects/docs/caches/iron/items/n', { token: null, headers: ironAuth, body: { value: '41' } });
    await call('PUT', '/1/projects/docs/caches/iron/items/n', { token: null, headers: ironAuth, body: {} });
    await call('PUT', '/1/projects/docs/caches/iron/items/n', { token: null, headers: ironAuth, body: { value: '1', add: true } });
    await call('PUT', '/1/projects/other/caches/iron/items/n', { token: null, headers: ironAuth, body: { value: '1' } });
    await call('POST', '/1/projects/docs/caches/iron/items/n/increment', { token: null, headers: ironAuth, body: { amount: 1 } });
    await call('GET', '/1/projects/docs/caches/iron/items/n', { token: null, headers: ironAuth });
    await call('GET', '/1/projects/docs/caches/iron/items/zz', { token: null, headers: ironAuth });
    await call('GET', '/1/projects/docs/caches', { token: null, headers: ironAuth });
    await call('GET', '/1/projects/docs/caches/iron', { token: null, headers: ironAuth });
    await call('DELETE', '/1/projects/docs/caches/iron/items/n', { token: null, headers: ironAuth });
    await call('POST', '/1/projects/docs/caches/iron/clear', { token: null, headers: ironAuth });
    await call('DELETE', '/1/projects/docs/caches/iron', { token: null, headers: ironAuth });
    await call('GET', '/1/projects/docs/caches/iron', { token: null, headers: ironAuth });
    await call('GET', '/1/projects/docs/caches', { token: null });
    await call('POST', '/cacheName', { body: { cacheName: 'over-the-limit' } });
    await call('PUT', '/1/projects/docs/caches/iron-over/items/n', { token: null, headers: ironAuth, body: { value: '1' } });
    // Momento
    await call('PUT', `/cache/cache1?key=m&ttl_seconds=60&token=${token}`, { token: null, body: value });
    await call('PUT', `/cache/cache1?key=m&token=${token}`, { token: null, body: value });
    await call('GET', `/cache/cache1?key=m&token=${token}`, { token: null });
    await call('GET', `/cache/cache1?key=zz&token=${token}`, { token: null });
    await call('GET', `/cache/nope?key=m&token=${token}`, { token: null });
    await call('DELETE', `/cache/cache1?key=m&token=${token}`, { token: null });
    await call('GET', '/cache/cache1?key=m', { token: null });
    await call('POST', `/cache/cache1?token=${token}`, { token: null });
    // docs
    await call('GET', '/docs', { token: null });
    await call('GET', '/docs/assets/swagger-ui.css', { token: null });
    await call('GET', '/docs/assets/secret.txt', { token: null });
    await call('DELETE', '/cacheName/cache1');
    expect(undocumented).toEqual([]);
    // The requests above reach every kind of answer (so the check above is not vacuous).
    expect([...seen].sort()).toEqual([200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 406, 409, 413, 415, 422]);
  });

  it('lists no status a route cannot answer: deleting, flushing and describing a cache create none, so no 409', () => {
    const responses = (path: string, verb: string) => Object.keys((document.paths[path] as Record<string, { responses: object }>)[verb].responses);
    const deleteName = Object.keys(document.paths).find((p) => /^\/cacheName\/\{cacheName\}$/.test(p))!;
    expect(responses(deleteName, 'delete')).not.toContain('409');
    const withoutCreation = Object.entries(document.paths).flatMap(([path, verbs]) =>
      Object.entries(verbs as Record<string, { summary?: string; responses: object }>)
        .filter(([, op]) => /^(Delete a key|Delete a cache name|Remove every key|Change a cache name)/.test(op.summary ?? ''))
        .map(([verb, op]) => ({ path, verb, statuses: Object.keys(op.responses) })),
    );
    expect(withoutCreation.length).toBeGreaterThanOrEqual(4);
    for (const op of withoutCreation) expect(op).toEqual({ ...op, statuses: expect.not.arrayContaining(['409']) });
  });

  it('serves Swagger UI as HTML with its assets from the swagger-ui-dist package (no CDN)', async () => {
    const page = await http(`${t.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="swagger-ui">');
    expect(page.text).not.toMatch(/https?:\/\//);
    const bundle = await http(`${t.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.text).toContain('SwaggerUIBundle');
    expect((await http(`${t.url}/docs/init.js`)).text).toContain("url: '/docs/json'");
    expect((await http(`${t.url}/docs/assets/..%2Fpackage.json`)).status).toBe(400);
  });
});
