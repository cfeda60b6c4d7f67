import { z } from 'zod';
import { AppConfig } from '../../config/config';
import { ERROR_CATALOGUE, isCatalogued } from '../../core/error-catalogue';
import { CatalogedRoute } from '../contract/route-catalog';
import { ResponseContract, RouteContract, RouteFamily, resolveSchema } from '../contract/route-contract';
import { FAMILIES, FamilyProfile, SharedError, profileOf } from '../../families';
import { DESCRIBED_ROUTES } from './described-routes';
import { SchemaComponents } from './schema-components';

type Json = Record<string, unknown>;

/** The document's one security scheme: every family takes `Authorization: Bearer <JWT>`. */
const BEARER = 'bearer';

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  return rest;
};

/** OpenAPI's `{name}` for Fastify's `:name`; a trailing wildcard (the Upstash path form) is `{command}`. */
export const openApiPath = (url: string): string =>
  (url.length > 1 ? url.replace(/\/+$/, '') : url).replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{command}');

const isJson = (contentType: string | undefined): boolean => contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/.test(contentType);

/**
 * Errors every route of its kind can answer, before or besides its handler (the edge, the
 * validator, the read-your-writes hook), with the codes each carries.
 */
function sharedErrors(method: string, contract: RouteContract, jsonBody: boolean): Record<number, SharedError> {
  const hasInput = contract.params !== undefined || contract.query !== undefined || contract.body !== undefined;
  const badInput = ['INVALID_REQUEST', ...(jsonBody ? ['INVALID_JSON', 'JSON_TOO_DEEP'] : [])];
  const description = hasInput ? 'invalid input (INVALID_REQUEST, naming the field), or a malformed URL' : 'a malformed URL';
  if (contract.public) return { 400: { description, codes: badInput } };
  // `minSeq` is honoured on a GET of one cache (it waits for that sequence number) and refused elsewhere.
  const readsOneCache = method === 'GET' && contract.params?.shape.cacheName !== undefined;
  const shared: Record<number, SharedError> = {
    400: { description: `${description}; \`minSeq\` where it does not apply${readsOneCache ? ", or one this cache's journal does not have" : ''}`, codes: [...badInput, ...(readsOneCache ? ['MIN_SEQ_NOT_REACHED'] : [])] },
    401: { description: 'no token, or an invalid one', codes: ['UNAUTHORIZED'] },
    413: { description: 'the body (declared or sent) is larger than this route takes, or the answer would pass MAX_RESPONSE_BYTES', codes: ['PAYLOAD_TOO_LARGE'] },
    429: { description: "the token's rate limit (RATE_LIMITS), or the org's clients hold too many unread answers (ANSWER_QUEUE_ORG_BYTES), or a per-org limit; `Retry-After` says when", codes: ['RATE_LIMITED', 'ANSWER_QUEUE_FULL'] },
    503: { description: 'storage is unavailable for a moment (a fault being healed, start-up or shutdown); try again', codes: ['STORAGE_UNAVAILABLE'] },
  };
  // A read-only token may only read (the Redis families refuse its write commands one by one instead).
  if (method !== 'GET' && contract.family !== 'upstash') shared[403] = { description: 'a read-only token (its `readOnly` claim) sent something other than GET or HEAD', codes: ['FORBIDDEN'] };
  for (const [status, extra] of Object.entries(profileOf(contract.family).openApi.sharedErrors ?? {})) {
    const own = shared[Number(status)];
    shared[Number(status)] = own === undefined ? extra : { description: `${extra.description}; or ${own.description}`, codes: [...new Set([...extra.codes, ...own.codes])] };
  }
  return shared;
}

/**
 * The OpenAPI 3.1 document of every registered route, built from the routes Fastify holds
 * (RouteCatalog) and their contracts: one source for validation and documentation. Routes
 * other parts register without a contract are described in described-routes.ts. Only the
 * operations served are in it (and the HEAD Fastify serves for every GET): a verb a path does
 * not serve answers 405, described once (the info text and `components.responses.MethodNotAllowed`).
 */
export function buildOpenApiDocument(routes: readonly CatalogedRoute[], config: AppConfig, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const components = new SchemaComponents();
  for (const route of routes) {
    if (route.methodNotAllowed || route.method === 'HEAD') continue;
    const contract = route.contract ?? DESCRIBED_ROUTES[`${route.method} ${openApiPath(route.url)}`];
    if (contract === undefined) continue; // the completeness test names it
    const path = openApiPath(route.url);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route.method, path, contract, config, components);
  }
  for (const route of routes) {
    const item = paths[openApiPath(route.url)];
    if (route.method === 'HEAD' && !route.methodNotAllowed && item?.get && !item.head) item.head = headOf(item.get);
  }
  const profiles = Object.entries(FAMILIES) as Array<[RouteFamily, FamilyProfile]>;
  const errorSchemas = Object.fromEntries(profiles.map(([, { errors }]) => [errors.schema.component, errors.schema.schema]));
  return {
    openapi: '3.1.0',
    info: { title: 'cachelog', version, description: infoText(profiles) },
    servers: [{ url: '/' }],
    tags: profiles.map(([name, { openApi }]) => ({ name, description: openApi.description })),
    paths,
    components: {
      securitySchemes: {
        [BEARER]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `${TOKEN_TEXT} ${alternativesText(profiles)}` },
      },
      schemas: { ...errorSchemas, ...components.schemas },
      responses: { MethodNotAllowed: methodNotAllowed(profiles) },
    },
  };
}

const TOKEN_TEXT = 'A JWT with an `org` claim (and `name`, `serviceLevel`), as `Authorization: Bearer <JWT>`: every API family takes it so. `GET /metrics` takes METRICS_TOKEN here instead of a JWT.';

/** The token's other places, family by family (the query forms are also an optional parameter of each operation). */
function alternativesText(profiles: ReadonlyArray<[RouteFamily, FamilyProfile]>): string {
  const forms = profiles.flatMap(([name, { openApi }]) => {
    const alternatives = openApi.tokenAlternatives;
    if (alternatives === undefined) return [];
    const each = [alternatives.header, alternatives.query && `\`?${alternatives.query}=<JWT>\``].filter((form): form is string => Boolean(form));
    return [`${name}: ${each.join(' or ')}`];
  });
  return forms.length === 0 ? '' : `The same JWT is also taken as (${forms.join('; ')}).`;
}

function infoText(profiles: ReadonlyArray<[RouteFamily, FamilyProfile]>): string {
  return [
    'A durable REST cache whose source of truth is an event log. The same caches through the native (Akka-Cache) API, an IronCache-compatible API, a Momento-compatible HTTP API and an Upstash-compatible Redis REST API; per-cache settings, history and background tasks. Each family answers errors in its own format (its `*Error` schema); every error example is named by its code in the error catalogue.',
    `Authentication: one bearer scheme, ${TOKEN_TEXT} ${alternativesText(profiles)}`,
    'A verb a path does not serve answers 405 with an `Allow` header naming the verbs it does serve, in the error format of the path\'s family (`components.responses.MethodNotAllowed`); such verbs are not listed as operations. HEAD is served wherever GET is.',
  ].join('\n\n');
}

/** The one description of a 405: every family's body, one example each. */
function methodNotAllowed(profiles: ReadonlyArray<[RouteFamily, FamilyProfile]>): Json {
  const byType = new Map<string, { refs: Json[]; examples: Json }>();
  for (const [name, profile] of profiles) {
    const { contentType, component } = profile.errors.schema;
    const media = byType.get(contentType) ?? { refs: [], examples: {} };
    byType.set(contentType, media);
    const ref = { $ref: `#/components/schemas/${component}` };
    if (!media.refs.some((known) => known.$ref === ref.$ref)) media.refs.push(ref);
    const { message } = profile.word({ code: 'METHOD_NOT_ALLOWED', message: 'PATCH is not supported here; use GET or POST' });
    media.examples[name] = { summary: `${name}: METHOD_NOT_ALLOWED`, value: renderError(profile, 405, 'METHOD_NOT_ALLOWED', message) };
  }
  return {
    description: 'the path does not serve this verb (METHOD_NOT_ALLOWED); `Allow` names the verbs it serves',
    headers: { allow: { description: 'the verbs the path serves', schema: { type: 'string' } } },
    content: Object.fromEntries([...byType].map(([type, { refs, examples }]) => [type, { schema: refs.length === 1 ? refs[0] : { anyOf: refs }, examples }])),
  };
}

const pascal = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function operation(method: string, path: string, contract: RouteContract, config: AppConfig, components: SchemaComponents): Json {
  const profile = profileOf(contract.family);
  const parameters: Json[] = [];
  if (contract.params) {
    for (const [name, schema] of Object.entries(contract.params.shape)) {
      const json = toSchema(schema as z.ZodType, 'input');
      parameters.push({ name, in: 'path', required: true, description: json.description, schema: json, ...(json.example !== undefined ? { example: json.example } : {}) });
    }
  }
  if (path.endsWith('/{command}') && !parameters.some((parameter) => parameter.name === 'command')) {
    parameters.push({
      name: 'command',
      in: 'path',
      required: true,
      description:
        'the command, then each argument as a path segment of its own (`set/greeting/hello`); a `/` sent percent-encoded stays inside one argument, so a client that encodes this parameter can send argument-less commands only (use the JSON form for the others)',
      schema: { type: 'string' },
      example: 'ping',
    });
  }
  if (contract.query) {
    const json = toSchema(contract.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      parameters.push({ name, in: 'query', required: json.required?.includes(name) ?? false, description: schema.description, schema });
    }
  }
  const tokenQuery = profile.openApi.tokenAlternatives?.query;
  if (!contract.public && tokenQuery !== undefined && !parameters.some((parameter) => parameter.in === 'query' && parameter.name === tokenQuery)) {
    parameters.push({ name: tokenQuery, in: 'query', required: false, description: 'the JWT, as an alternative to the bearer scheme (never logged)', schema: { type: 'string' } });
  }
  const operationId = `${method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`;
  const op: Json = {
    operationId,
    tags: [contract.family],
    summary: contract.summary,
    ...(contract.description ? { description: contract.description } : {}),
    security: contract.security ?? (contract.public ? [] : [{ [BEARER]: [] }]),
    ...(parameters.length > 0 ? { parameters } : {}),
  };
  const model = pascal(operationId);
  const body = contract.body;
  if (body) {
    const schema = resolveSchema(body.schema, config);
    const media: Json = { schema: schema ? (isJson(body.contentType) ? components.ref(schema, 'input', `${model}Request`) : toSchema(schema, 'input')) : { type: 'string', format: 'binary' } };
    if (body.example !== undefined) media.example = body.example;
    op.requestBody = { required: body.contentType === 'application/json', content: { [body.contentType]: media } };
  }
  const shared = sharedErrors(method, contract, body !== undefined && isJson(body.contentType));
  const statuses = [...new Set([...Object.keys(contract.responses), ...Object.keys(shared)].map(Number))].sort((a, b) => a - b);
  const withBodies = statuses.filter((status) => status < 400 && isJson(contract.responses[status]?.contentType));
  const responses: Json = {};
  for (const status of statuses) {
    const own = contract.responses[status];
    if (status < 400) {
      const name = withBodies.length > 1 ? `${model}Response${status}` : `${model}Response`;
      responses[status] = describe(own, (schema) => components.ref(schema, 'output', name));
    } else if (own?.contentType !== undefined) {
      responses[status] = describe(own, (schema) => components.ref(schema, 'output', `${model}Error${status}`));
    } else {
      responses[status] = errorResponse(profile, status, own, shared[status]);
    }
  }
  op.responses = responses;
  return op;
}

function describe(response: ResponseContract, named: (schema: z.ZodType) => Json): Json {
  const out: Json = { description: response.description };
  if (response.headers) out.headers = Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
  if (response.contentType) {
    const schema = response.schema ? (isJson(response.contentType) ? named(response.schema) : toSchema(response.schema, 'output')) : {};
    const media: Json = { schema };
    if (response.example !== undefined) media.example = response.example;
    out.content = { [response.contentType]: media };
  }
  return out;
}

/**
 * An error answer in the family's format, with one example per code it carries: the codes
 * its contract names, else those its description names (by code or by the text a family
 * answers them with), and the shared ones of its status.
 */
function errorResponse(profile: FamilyProfile, status: number, own: ResponseContract | undefined, shared: SharedError | undefined): Json {
  const description = [own?.description, shared?.description].filter(Boolean).join('; or ');
  const codes = [...(own === undefined ? [] : own.codes ?? codesNamedIn(profile, status, own.description)), ...(shared?.codes ?? [])];
  if (codes.length === 0) codes.push(...anyCodeOf(profile, status));
  const { contentType, component } = profile.errors.schema;
  const examples: Json = {};
  for (const code of new Set(codes)) {
    const { message } = profile.word({ code, cacheName: 'cache1' });
    examples[code] = { summary: `${code}: ${ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE]?.text ?? message}`, value: renderError(profile, status, code, message) };
  }
  const out: Json = { description, content: { [contentType]: { schema: { $ref: `#/components/schemas/${component}` }, examples } } };
  if (own?.headers) out.headers = Object.fromEntries(Object.entries(own.headers).map(([name, text]) => [name, { description: text, schema: { type: 'string' } }]));
  if (status === 429) out.headers = { ...(out.headers as Json), 'retry-after': { description: 'seconds until the limit admits the request again', schema: { type: 'string' } } };
  return out;
}

/** Catalogued codes a description names, by code or by the family's text for them, that the family answers with this status. */
function codesNamedIn(profile: FamilyProfile, status: number, description: string): string[] {
  const lower = description.toLowerCase();
  return Object.keys(ERROR_CATALOGUE).filter((code) => {
    if (profile.word({ code }).status !== status) return false;
    if (new RegExp(`\\b${code}\\b`).test(description)) return true;
    const texts = [ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].text, profile.word({ code }).message];
    return texts.some((text) => lower.includes(text.toLowerCase().replace(/\.$/, '')));
  });
}

/** The first catalogued code the family answers with this status (a status no description explains). */
function anyCodeOf(profile: FamilyProfile, status: number): string[] {
  const code = Object.keys(ERROR_CATALOGUE).find((candidate) => isCatalogued(candidate) && profile.word({ code: candidate }).status === status);
  return code === undefined ? [] : [code];
}

function renderError(profile: FamilyProfile, status: number, code: string, message: string): unknown {
  const { contentType, body } = profile.errors.render(status, code, message);
  return isJson(contentType) ? JSON.parse(body) : body;
}

function headOf(get: Json): Json {
  const responses = Object.fromEntries(
    Object.entries(get.responses as Record<string, Json>).map(([status, { content: _content, ...rest }]) => [status, rest]),
  );
  return { ...get, operationId: `head${String(get.operationId).slice(3)}`, summary: `${String(get.summary)} (headers only)`, responses };
}
