import { z } from 'zod';
import { AppConfig } from '../../config/config';
import { CatalogedRoute } from '../contract/route-catalog';
import { ResponseContract, RouteContract, RouteFamily, resolveSchema } from '../contract/route-contract';
import { FAMILIES, profileOf } from '../../families';
import { DESCRIBED_ROUTES } from './described-routes';

type Json = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  return rest;
};

/** OpenAPI's `{name}` for Fastify's `:name`. */
export const openApiPath = (url: string): string => (url.length > 1 ? url.replace(/\/+$/, '') : url).replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Errors every route of its kind can answer, before or besides its handler. */
function sharedErrors(contract: RouteContract, hasInput: boolean): Record<number, string> {
  const shared: Record<number, string> = { 400: hasInput ? 'invalid input (INVALID_REQUEST, naming the field), or a malformed URL' : 'a malformed URL' };
  if (contract.public) return shared;
  Object.assign(shared, {
    401: 'no token, or an invalid one',
    413: 'the body (declared or sent) is larger than this route takes, or the answer would pass MAX_RESPONSE_BYTES',
    429: "the token's rate limit (RATE_LIMITS) or a per-org limit; `Retry-After` says when",
    503: 'storage is unavailable for a moment (a fault being healed, start-up or shutdown); try again',
  });
  Object.assign(shared, profileOf(contract.family).openApi.sharedErrors);
  return shared;
}

/**
 * The OpenAPI 3.1 document of every registered route, built from the routes Fastify holds
 * (RouteCatalog) and their contracts: one source for validation and documentation. Routes
 * other parts register without a contract are described in described-routes.ts. A path's
 * refused verbs (405 with `Allow`) and Fastify's HEAD for every GET are in it too.
 */
export function buildOpenApiDocument(routes: readonly CatalogedRoute[], config: AppConfig, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const usedErrors = new Set<string>();
  const served = routes.filter((route) => !route.methodNotAllowed && route.method !== 'HEAD');
  for (const route of served) {
    const contract = route.contract ?? DESCRIBED_ROUTES[`${route.method} ${openApiPath(route.url)}`];
    if (contract === undefined) continue; // the completeness test names it
    const path = openApiPath(route.url);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route.method, path, contract, config, usedErrors);
  }
  for (const route of routes) {
    const path = openApiPath(route.url);
    const item = paths[path];
    if (item === undefined) continue;
    const method = route.method.toLowerCase();
    if (route.method === 'HEAD' && !route.methodNotAllowed && item.get && !item.head) item.head = headOf(item.get);
    else if (route.methodNotAllowed && !item[method]) item[method] = refused(route.method, path, item, usedErrors);
  }
  const profiles = Object.entries(FAMILIES);
  const errorComponents = Object.fromEntries(profiles.map(([, { errors }]) => [errors.schema.component, errors.schema.schema]));
  return {
    openapi: '3.1.0',
    info: {
      title: 'cachelog',
      version,
      description:
        'A durable REST cache whose source of truth is an event log. The same caches through the native (Akka-Cache) API, an IronCache-compatible API and a Momento-compatible HTTP API; per-cache settings, history and background tasks. Each family answers errors in its own format.',
    },
    servers: [{ url: '/' }],
    tags: profiles.map(([name, { openApi }]) => ({ name, description: openApi.description })),
    paths,
    components: {
      securitySchemes: Object.assign({}, ...profiles.map(([, { openApi }]) => openApi.securitySchemes)),
      schemas: Object.fromEntries(Object.entries(errorComponents).filter(([name]) => usedErrors.has(name))),
    },
  };
}

function operation(method: string, path: string, contract: RouteContract, config: AppConfig, usedErrors: Set<string>): Json {
  const parameters: Json[] = [];
  if (contract.params) {
    for (const [name, schema] of Object.entries(contract.params.shape)) {
      const json = toSchema(schema as z.ZodType, 'input');
      parameters.push({ name, in: 'path', required: true, description: json.description, schema: json, ...(json.example !== undefined ? { example: json.example } : {}) });
    }
  }
  if (contract.query) {
    const json = toSchema(contract.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      parameters.push({ name, in: 'query', required: json.required?.includes(name) ?? false, description: schema.description, schema });
    }
  }
  const op: Json = {
    operationId: `${method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/\*/g, 'command').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: [contract.family],
    summary: contract.summary,
    ...(contract.description ? { description: contract.description } : {}),
    security: contract.security ?? (contract.public ? [] : profileOf(contract.family).openApi.security),
    ...(parameters.length > 0 ? { parameters } : {}),
  };
  if (contract.body) {
    const schema = resolveSchema(contract.body.schema, config);
    const media: Json = { schema: schema ? toSchema(schema, 'input') : { type: 'string', format: 'binary' } };
    if (contract.body.example !== undefined) media.example = contract.body.example;
    op.requestBody = { required: contract.body.contentType === 'application/json', content: { [contract.body.contentType]: media } };
  }
  const responses: Json = {};
  const hasInput = contract.params !== undefined || contract.query !== undefined || contract.body !== undefined;
  const errorBody = errorContent(contract.family, usedErrors);
  for (const [status, response] of Object.entries(contract.responses)) responses[status] = describe(response, Number(status) >= 400 ? errorBody : undefined);
  for (const [status, description] of Object.entries(sharedErrors(contract, hasInput))) {
    if (responses[status] === undefined) responses[status] = { description, content: errorBody };
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
  return op;
}

function describe(response: ResponseContract, errorBody: Json | undefined): Json {
  const out: Json = { description: response.description };
  if (response.headers) out.headers = Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
  if (response.contentType) {
    const media: Json = { schema: response.schema ? toSchema(response.schema, 'output') : {} };
    if (response.example !== undefined) media.example = response.example;
    out.content = { [response.contentType]: media };
  } else if (errorBody) out.content = errorBody;
  return out;
}

/** The error body of the family's profile (the one its paths answer errors with). */
function errorContent(family: RouteFamily, usedErrors: Set<string>): Json {
  const { contentType, component, example } = profileOf(family).errors.schema;
  usedErrors.add(component);
  return { [contentType]: { schema: { $ref: `#/components/schemas/${component}` }, example } };
}

function headOf(get: Json): Json {
  const responses = Object.fromEntries(
    Object.entries(get.responses as Record<string, Json>).map(([status, { content: _content, ...rest }]) => [status, rest]),
  );
  return { ...get, operationId: `head${String(get.operationId).slice(3)}`, summary: `${String(get.summary)} (headers only)`, responses };
}

function refused(method: string, path: string, item: Record<string, Json>, usedErrors: Set<string>): Json {
  const allowed = Object.keys(item)
    .filter((verb) => verb !== 'head')
    .map((verb) => verb.toUpperCase());
  const family = (Object.values(item)[0].tags as RouteFamily[])[0];
  return {
    operationId: `refused${method[0]}${method.slice(1).toLowerCase()}${path.replace(/[{}]/g, '').replace(/\*/g, 'command').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: [family],
    summary: `not served here (allowed: ${allowed.join(', ')})`,
    // 405 routes are not public: the edge checks the token of the path's family first (Bearer for the operational paths).
    security: profileOf(family).openApi.security,
    responses: {
      ...Object.fromEntries(Object.entries(sharedErrors({ family, summary: '', responses: {} }, false)).map(([status, description]) => [status, { description, content: errorContent(family, usedErrors) }])),
      405: { description: 'this path does not serve the verb', headers: { allow: { description: 'the verbs it serves', schema: { type: 'string' } } }, content: errorContent(family, usedErrors) },
    },
  };
}
