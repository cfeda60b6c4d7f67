import { execFileSync } from 'node:child_process';
import findMyWay from 'find-my-way';
import { RouteCatalog } from '../../src/api/contract/route-catalog';
import { openApiPath } from '../../src/api/openapi/openapi-document';
import { ERROR_CATALOGUE, isCatalogued } from '../../src/core/error-catalogue';
import { FAMILIES, RouteFamily } from '../../src/families';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

type Media = { schema: { $ref?: string } & Record<string, unknown>; example?: unknown; examples?: Record<string, { summary?: string; value: unknown }> };
type Response = { description: string; content?: Record<string, Media>; headers?: Record<string, unknown> };
type Parameter = { name: string; in: string; required?: boolean };
type Operation = {
  operationId: string;
  tags: RouteFamily[];
  summary?: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
  security?: Array<Record<string, string[]>>;
};
type Document = {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, Record<string, unknown>>; responses: Record<string, Response> };
};

const isJson = (type: string) => /^application\/(?:[\w.+-]+\+)?json\b/.test(type);
const operationsOf = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([verb, operation]) => ({ path, verb, operation })));
/** Every `$ref` anywhere under a node. */
const refsIn = (node: unknown): string[] =>
  Array.isArray(node)
    ? node.flatMap(refsIn)
    : node !== null && typeof node === 'object'
      ? Object.entries(node).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner)))
      : [];
/** A documented path with sample values for its parameters (the IronCache project is the token's org). */
const SAMPLES: Record<string, string> = { projectId: 'docs', cacheName: 'cache1', key: 'key1', ttlSeconds: '30', db: 'd', command: 'ping', asset: 'swagger-ui.css', file: 'console.js' };
const concrete = (path: string) => path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLES[name] ?? 'x');

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
    // Small limits, so that the cache limit, the point-in-time replay limit and a rate limit answer too.
    t = await startTestApp({ env: { MAX_CACHES_PER_ORG: '2', POINT_IN_TIME_MAX_EVENTS: '1', RATE_LIMITS: 'free=100000,trickle=1', RATE_LIMIT_WINDOW_SECONDS: '3600' } });
    const response = await http(`${t.url}/docs/json`);
    expect(response.status).toBe(200);
    document = response.json();
  });
  afterAll(() => t.dispose());

  it('is served without a token and is a valid OpenAPI 3.1 document', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(validateOpenApi(document)).toEqual({ valid: true });
  });

  it('has an operation for every route Fastify serves (HEAD included) and none for a refused verb', () => {
    const routes = t.app.get(RouteCatalog).routes;
    const at = (route: { url: string; method: string }) => document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    const served = routes.filter((route) => !route.methodNotAllowed);
    expect(served.filter((route) => at(route) === undefined).map((route) => `${route.method} ${route.url}`)).toStrictEqual([]);
    const refused = routes.filter((route) => route.methodNotAllowed && !served.some((other) => other.method === route.method && openApiPath(other.url) === openApiPath(route.url)));
    expect(refused.length).toBeGreaterThan(50); // the server still refuses them
    expect(refused.filter((route) => at(route) !== undefined).map((route) => `${route.method} ${route.url}`)).toStrictEqual([]);
    // One operation per served method and path, no more.
    const servedKeys = new Set(served.map((route) => `${route.method.toLowerCase()} ${openApiPath(route.url)}`));
    expect(operationsOf(document).length).toBe(servedKeys.size);
    expect(operationsOf(document).filter(({ operation }) => operation.responses['405'] !== undefined || /not served/.test(operation.summary ?? ''))).toStrictEqual([]);
  });

  it('describes 405 once, and every path answers a verb it does not serve with 405 and an Allow of its documented verbs', async () => {
    expect(document.info.description).toMatch(/405/);
    const component = document.components.responses.MethodNotAllowed;
    expect(component.headers).toHaveProperty('allow');
    expect(Object.keys(component.content!)).toEqual(expect.arrayContaining(['application/json', 'text/plain']));
    const wrong: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      // No route serves PATCH: every path refuses it.
      const response = await http(`${t.url}${concrete(path)}`, { method: 'PATCH', token });
      const documented = Object.keys(item).filter((verb) => verb !== 'head').map((verb) => verb.toUpperCase()).sort();
      const allowed = (response.headers.get('allow') ?? '').split(/,\s*/).filter(Boolean).sort();
      if (response.status !== 405 || allowed.join() !== documented.join()) wrong.push(`PATCH ${path}: ${response.status} Allow [${allowed.join()}], documented [${documented.join()}]`);
    }
    expect(wrong).toStrictEqual([]);
  });

  it('gives every operation its own operationId', () => {
    const ids = operationsOf(document).map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names every request and response model: JSON bodies are $refs to component schemas, and every $ref resolves', () => {
    const anonymous: string[] = [];
    for (const { path, verb, operation } of operationsOf(document)) {
      const bodies = [
        ...Object.entries(operation.requestBody?.content ?? {}).map(([type, media]) => ({ where: `${verb} ${path} request ${type}`, type, media })),
        ...Object.entries(operation.responses).flatMap(([status, response]) =>
          Object.entries(response.content ?? {}).map(([type, media]) => ({ where: `${verb} ${path} ${status} ${type}`, type, media })),
        ),
      ];
      for (const { where, type, media } of bodies) if (isJson(type) && !media.schema.$ref?.startsWith('#/components/schemas/')) anonymous.push(where);
    }
    expect(anonymous).toStrictEqual([]);
    const unresolved = refsIn(document).filter((ref) => {
      const [, kind, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(ref) ?? [];
      return kind === undefined || (document.components[kind as 'schemas'] as Record<string, unknown>)[name] === undefined;
    });
    expect(unresolved).toStrictEqual([]);
    // The models named by their contracts, inside each other by reference too.
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['CachedValue', 'CacheRequest', 'BatchSetRequest', 'BatchGetResponse', 'CacheSettings', 'EventsPage', 'HistoryEvent', 'IronCacheItem', 'RedisCommand', 'RedisResult', 'HealthCheck', 'NativeError', 'MomentoError']),
    );
    expect(refsIn(document.components.schemas.BatchSetRequest)).toContain('#/components/schemas/CacheRequest');
    expect(refsIn(document.components.schemas.BatchGetResponse)).toContain('#/components/schemas/CachedValue');
  });

  it("gives each error answer examples named by catalogued codes that the family answers with that very status", () => {
    // Deliberate exceptions, each answered so by the server: a binary GET miss is 404 as the Akka-Cache API has it.
    const EXCEPTIONS = new Set(['get /{cacheName}/{key} 404 KEY_NOT_FOUND']);
    const wrong: string[] = [];
    let examples = 0;
    for (const { path, verb, operation } of operationsOf(document)) {
      const profile = FAMILIES[operation.tags[0]];
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400 || verb === 'head') continue;
        const media = response.content?.[profile.errors.schema.contentType];
        if (media?.schema.$ref !== `#/components/schemas/${profile.errors.schema.component}`) continue; // a body of its own (health's NotReady)
        const named = Object.entries(media.examples ?? {});
        if (named.length === 0) wrong.push(`${verb} ${path} ${status}: no example`);
        for (const [code, { value }] of named) {
          examples++;
          const where = `${verb} ${path} ${status} ${code}`;
          if (!isCatalogued(code)) wrong.push(`${where}: not a catalogued code`);
          else if (profile.word({ code }).status !== Number(status) && !EXCEPTIONS.has(where)) wrong.push(`${where}: the family answers ${code} with ${profile.word({ code }).status}`);
          // The example is the family's own body for that code.
          const rendered = profile.errors.render(Number(status), code, profile.word({ code, cacheName: 'cache1' }).message).body;
          if (JSON.stringify(value) !== (isJson(profile.errors.schema.contentType) ? rendered : JSON.stringify(rendered))) wrong.push(`${where}: ${JSON.stringify(value)} is not the family's body ${rendered}`);
        }
      }
    }
    expect(wrong).toStrictEqual([]);
    expect(examples).toBeGreaterThan(300);
    // The native body shows the code, whose catalogued status is the response's.
    const unauthorized = document.paths['/cacheName/list'].get.responses['401'].content!['application/json'].examples!;
    expect(Object.values(unauthorized).map(({ value }) => value)).toEqual([{ code: 'UNAUTHORIZED', message: ERROR_CATALOGUE.UNAUTHORIZED.text }]);
    expect(Object.keys(document.paths['/cacheName/{cacheName}/keys'].get.responses['422'].content!['application/json'].examples!)).toEqual(['POINT_IN_TIME_TOO_COSTLY', 'POINT_IN_TIME_TOO_LARGE']);
    expect(document.paths['/cache/{cacheName}'].get.responses['404'].content!['text/plain'].examples).toEqual({
      CACHE_NOT_FOUND: expect.objectContaining({ value: 'Cache Not Found' }),
      KEY_NOT_FOUND: expect.objectContaining({ value: 'Key Not Found' }),
    });
  });

  it('has one security scheme, HTTP bearer, that every authenticated operation names; the query-string forms are documented parameters', () => {
    const schemes = document.components.securitySchemes;
    expect(Object.keys(schemes)).toEqual(['bearer']);
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(schemes.bearer.description).toEqual(expect.stringContaining('?oauth='));
    const unsecured = operationsOf(document).filter(({ operation }) => operation.tags[0] !== 'operations' && JSON.stringify(operation.security) !== JSON.stringify([{ bearer: [] }]));
    expect(unsecured.map(({ verb, path }) => `${verb} ${path}`)).toStrictEqual([]);
    expect(document.paths['/docs/json'].get.security).toStrictEqual([]);
    expect(document.paths['/metrics'].get.security).toEqual([{ bearer: [] }]);
    const queryToken = (family: RouteFamily) =>
      new Set(
        operationsOf(document)
          .filter(({ operation }) => operation.tags[0] === family)
          .map(({ operation }) => (operation.parameters ?? []).filter((p) => p.in === 'query' && !p.required && ['oauth', 'token', '_token'].includes(p.name)).map((p) => p.name).join()),
      );
    expect(queryToken('ironcache')).toEqual(new Set(['oauth']));
    expect(queryToken('momento')).toEqual(new Set(['token']));
    expect(queryToken('upstash')).toEqual(new Set(['_token']));
    expect(queryToken('native')).toEqual(new Set(['']));
  });

  it('every family takes the bearer token as Swagger UI sends it, and the documented query-string forms', async () => {
    const bearer = { authorization: `Bearer ${token}` };
    const asSwaggerUiSends = [
      ['native', 'GET', '/cacheName/list'],
      ['settings', 'GET', '/cacheName/nope/settings'],
      ['history', 'GET', '/cacheName/nope/events'],
      ['tasks', 'GET', '/api/v1/cache'],
      ['ironcache', 'GET', '/1/projects/docs/caches'],
      ['momento', 'GET', '/cache/nope?key=k'],
      ['upstash', 'GET', '/redis/ping'],
    ] as const;
    expect(new Set(asSwaggerUiSends.map(([family]) => family))).toEqual(new Set(Object.keys(FAMILIES).filter((family) => family !== 'operations')));
    for (const [family, method, path] of asSwaggerUiSends) {
      const withToken = await http(`${t.url}${path}`, { method, headers: bearer });
      const without = await http(`${t.url}${path}`, { method });
      expect([family, without.status]).toEqual([family, 401]);
      expect([family, withToken.status === 401 || withToken.status === 403]).toEqual([family, false]);
    }
    for (const path of [`/1/projects/docs/caches?oauth=${token}`, `/cache/nope?key=k&token=${token}`, `/redis/ping?_token=${token}`]) {
      expect([path, (await http(`${t.url}${path}`)).status === 401]).toEqual([path, false]);
    }
  });

  /**
   * Every status a route answered to a set of real requests (successes, misses, refusals by the
   * edge, by validation and by the domain, in all families) is in the document for that route,
   * and a native error body's code is one of that status's examples. A 405 is documented by
   * the path existing without that verb.
   */
  it('documents every status each route answered to real requests, with the code it answered among the examples', async () => {
    const router = findMyWay({ maxParamLength: 12 * 1024 });
    // Every documented path under GET, whatever its verbs: where a 405 is answered, the path must exist.
    const anyVerb = findMyWay({ maxParamLength: 12 * 1024 });
    for (const [path, item] of Object.entries(document.paths)) {
      const pattern = path.replace(/\{([^}]+)\}/g, ':$1');
      for (const method of Object.keys(item)) router.on(method.toUpperCase() as 'GET', pattern, () => undefined, { path, method });
      anyVerb.on('GET', pattern, () => undefined, { path });
    }
    const undocumented: string[] = [];
    const seen = new Set<number>();
    const call = async (method: string, path: string, options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}) => {
      const response = await http(`${t.url}${path}`, { method, token: options.token === null ? undefined : (options.token ?? token), body: options.body, headers: options.headers });
      seen.add(response.status);
      const found = router.find(method as 'GET', path.split('?')[0]);
      const { path: documented, method: verb } = (found?.store ?? {}) as { path?: string; method?: string };
      if (response.status === 405) {
        // The path that owns the URL (static segments win, as in the server) is documented without the verb.
        const owner = (anyVerb.find('GET', path.split('?')[0])?.store as { path?: string } | undefined)?.path;
        if (owner === undefined || document.paths[owner][method.toLowerCase()] !== undefined) undocumented.push(`${method} ${path} -> 405, but ${owner ?? 'no documented path'} has that verb`);
        return response;
      }
      const answer = documented === undefined ? undefined : document.paths[documented][verb!].responses[String(response.status)];
      if (answer === undefined) {
        undocumented.push(`${method} ${path} -> ${response.status} (${documented ?? 'no path'})`);
      } else if (response.status >= 400 && /^application\/json/.test(response.headers.get('content-type') ?? '')) {
        const code = (response.json() as { code?: unknown }).code;
        const examples = answer.content?.['application/json']?.examples ?? {};
        if (typeof code === 'string' && !(code in examples)) undocumented.push(`${method} ${path} -> ${response.status} ${code}: not among the examples [${Object.keys(examples).join()}]`);
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
    // a read-only token writes nothing; a token over its rate limit
    await call('POST', '/set', { token: tokenFor({ org: 'docs', readOnly: true }), body: { cacheName: 'cache1', key: 'k', value: 'aGVsbG8=' } });
    await call('PUT', `/cache/cache1?key=m&token=${tokenFor({ org: 'docs', readOnly: true })}`, { token: null, body: value });
    const trickle = tokenFor({ org: 'docs', serviceLevel: 'trickle' });
    await call('GET', '/cacheName/list', { token: trickle });
    await call('GET', '/cacheName/list', { token: trickle });
    await call('GET', '/1/projects/docs/caches', { token: null, headers: { authorization: `OAuth ${trickle}` } });
    await call('DELETE', '/cacheName/cache1');
    expect(undocumented).toStrictEqual([]);
    // The requests above reach every kind of answer (so the check above is not vacuous).
    expect([...seen].sort()).toEqual([200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429]);
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
    // A read-only token is refused only what it cannot do (GETs are not 403, but for IronCache's project check); 422 only where a point in time is read.
    expect(responses('/cacheName/list', 'get')).not.toContain('403');
    expect(responses('/cacheName/{cacheName}/flush', 'put')).toContain('403');
    const pointInTime = Object.entries(document.paths).flatMap(([path, verbs]) =>
      Object.entries(verbs as Record<string, { parameters?: Parameter[]; responses: object }>)
        .filter(([verb]) => verb === 'get')
        .map(([, op]) => ({ path, reads: (op.parameters ?? []).some((p) => p.name === 'at'), has422: '422' in op.responses })),
    );
    expect(pointInTime.filter(({ reads, has422 }) => reads !== has422)).toStrictEqual([]);
    expect(pointInTime.filter(({ reads }) => reads).length).toBeGreaterThanOrEqual(3);
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
