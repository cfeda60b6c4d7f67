import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';
import { ELEMENTS_PER_TURN, mapInTurns } from '../../core/turns';
import { fastCheckOf } from './params';
import { ElementsContract, RouteContract, resolveSchema } from './route-contract';

/**
 * Checks a request against its route's contract and replaces params, query and body by their
 * parsed values; throws a 400 (ApiError) otherwise. A long list of elements (a batch) is
 * checked over several event-loop turns: then it returns a promise, which rejects with the 400.
 */
export type RequestValidator = (request: FastifyRequest) => void | Promise<void>;

/**
 * Compiles a contract once, when its route is registered: path parameters with the fast
 * checks of params.ts where they exist, everything else with zod. Failures are 400
 * INVALID_REQUEST naming the field (`cacheName: must not be empty`).
 */
export function compileValidator(contract: RouteContract, config: AppConfig): RequestValidator | undefined {
  const steps: RequestValidator[] = [];
  if (contract.params) {
    const checks = Object.entries(contract.params.shape).map(([field, schema]) => {
      const fast = fastCheckOf(schema as z.ZodType);
      return { field, check: fast ?? ((value: string, name: string): string => parseWith(schema as z.ZodType, value, name) as string) };
    });
    steps.push((request) => {
      const params = request.params as Record<string, string>;
      for (const { field, check } of checks) params[field] = check(params[field], field);
    });
  }
  const query = contract.query;
  if (query) {
    // A query of optional fields only: nothing to check (or copy) when the request has none, as on most GET hits.
    // With defaults, an empty query takes a copy of them.
    const empty = parsedEmpty(query);
    const hasDefaults = empty !== undefined && !isEmpty(empty);
    steps.push((request) => {
      if (empty !== undefined && isEmpty(request.query)) {
        if (hasDefaults) request.query = { ...empty };
        return;
      }
      request.query = parseWith(query, request.query ?? {}, 'query');
    });
  }
  const body = contract.body;
  const bodySchema = resolveSchema(body?.schema, config);
  if (body && bodySchema) {
    const prepare = body.prepare;
    const sliced = body.elements && slicedParser(bodySchema, body.elements, config);
    steps.push((request) => {
      const input = prepare ? prepare(request.body, config) : request.body;
      if (sliced === undefined) return void (request.body = parseWith(bodySchema, input, 'body'));
      const parsed = sliced(input);
      if (!(parsed instanceof Promise)) return void (request.body = parsed);
      return parsed.then((value) => void (request.body = value));
    });
  }
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  // Only the body's step may be asynchronous, and it is the last.
  return (request) => {
    for (let i = 0; i < steps.length - 1; i++) void steps[i](request);
    return steps[steps.length - 1](request);
  };
}

/**
 * The body's parser when it holds a long list: short lists are parsed whole by `schema`; a list
 * longer than a slice has its length limit checked first, the rest of the body with its first
 * element only, then every element a slice per turn. The first refused element is the one
 * named, as a whole parse would name it (`cacheRequests.3.key: ...`).
 */
function slicedParser(schema: z.ZodType, { field, element, limit }: ElementsContract, config: AppConfig): (input: unknown) => unknown {
  const bound = limit?.(config);
  return (input) => {
    const list = field === undefined ? input : typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[field] : undefined;
    if (!Array.isArray(list) || list.length <= ELEMENTS_PER_TURN) return parseWith(schema, input, 'body');
    if (bound !== undefined && list.length > bound.max) throw ApiError.of('INVALID_REQUEST', `${field ?? 'body'}: ${bound.message}`);
    const rest = field === undefined ? undefined : (parseWith(schema, { ...(input as object), [field]: list.slice(0, 1) }, 'body') as object);
    const at = field === undefined ? [] : [field];
    const elements = mapInTurns(list, (item, i) => {
      const result = element.safeParse(item);
      if (result.success) return result.data;
      throw refusal(result.error, [...at, i]);
    });
    return field === undefined ? elements : elements.then((parsed) => ({ ...rest, [field]: parsed }));
  };
}

/** A Fastify `preValidation` hook running a compiled validator; refusals in the route's error format. */
const VALIDATION_HOOK = Symbol('contract validation');

export const isValidationHook = (hook: unknown): boolean => typeof hook === 'function' && VALIDATION_HOOK in hook;

export function validationHook(validate: RequestValidator) {
  const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    let checked: void | Promise<void>;
    try {
      checked = validate(request);
    } catch (failure) {
      sendError(failure, request, reply);
      return;
    }
    if (checked instanceof Promise) checked.then(done, (failure) => sendError(failure, request, reply));
    else done();
  };
  return Object.assign(hook, { [VALIDATION_HOOK]: true });
}

function parseWith<T extends z.ZodType>(schema: T, input: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw refusal(result.error, [], where);
}

/** The 400 naming a parse's first issue, its path under `at` (`cacheRequests.3.key: ...`), or `where`. */
function refusal(error: z.ZodError, at: ReadonlyArray<PropertyKey>, where = 'body'): ApiError {
  const issue = error.issues[0];
  const path = [...at, ...issue.path];
  return ApiError.of('INVALID_REQUEST', `${path.length > 0 ? path.map(String).join('.') : where}: ${issue.message}`);
}

function isEmpty(query: unknown): boolean {
  if (query === undefined || query === null) return true;
  for (const _ in query as object) return false;
  return true;
}

/** What `{}` parses to, or undefined when the schema refuses it (a transform that throws on it counts as a refusal). */
function parsedEmpty(schema: z.ZodType): object | undefined {
  try {
    const result = schema.safeParse({});
    return result.success ? (result.data as object) : undefined;
  } catch {
    return undefined;
  }
}
