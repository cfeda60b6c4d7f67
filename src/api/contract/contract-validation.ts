import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppConfig } from '../../config/config';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';
import { fastCheckOf } from './params';
import { RouteContract, resolveSchema } from './route-contract';

/** Checks a request against its route's contract and replaces params, query and body by their parsed values; throws a 400 (ApiError) otherwise. */
export type RequestValidator = (request: FastifyRequest) => void;

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
    steps.push((request) => (request.body = parseWith(bodySchema, prepare ? prepare(request.body, config) : request.body, 'body')));
  }
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (request) => {
    for (const step of steps) step(request);
  };
}

/** A Fastify `preValidation` hook running a compiled validator; refusals in the route's error format. */
const VALIDATION_HOOK = Symbol('contract validation');

export const isValidationHook = (hook: unknown): boolean => typeof hook === 'function' && VALIDATION_HOOK in hook;

export function validationHook(validate: RequestValidator) {
  const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    try {
      validate(request);
    } catch (failure) {
      sendError(failure, request, reply);
      return;
    }
    done();
  };
  return Object.assign(hook, { [VALIDATION_HOOK]: true });
}

function parseWith<T extends z.ZodType>(schema: T, input: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.length > 0 ? issue.path.join('.') : where;
  throw ApiError.of('INVALID_REQUEST', `${path}: ${issue.message}`);
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
