import { z } from 'zod';
import { mergeRouteConfig } from '../../auth/public.decorator';
import { AppConfig } from '../../config/config';
import type { RouteFamily } from '../../families';

/** Which API family a route belongs to (its profile, src/families/): its tag in the OpenAPI document. */
export type { RouteFamily };

/** One answer a route gives: its description, and its body's type, schema and example. */
export interface ResponseContract {
  readonly description: string;
  readonly contentType?: string;
  readonly schema?: z.ZodType;
  readonly example?: unknown;
  /** Response headers worth naming (ETag, Allow, Retry-After). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * An error answer's catalogued codes (src/core/error-catalogue.ts): the document shows one
   * example body per code, in the family's words, so each example is one this status carries.
   */
  readonly codes?: readonly string[];
}

/** A schema fixed at start-up from the settings (a batch's element limit is MAX_BATCH_ELEMENTS). */
export type SchemaSource = z.ZodType | ((config: AppConfig) => z.ZodType);

export interface BodyContract {
  /** `application/json`, `application/octet-stream` (raw bytes: not validated, any non-JSON type is taken). */
  readonly contentType: string;
  readonly schema?: SchemaSource;
  readonly example?: unknown;
  /** Turns what the body parser produced into what `schema` checks (IronCache: raw bytes read as JSON, 406 for a missing field). */
  readonly prepare?: (body: unknown, config: AppConfig) => unknown;
  /**
   * How large a body the edge reads for the route (edge/body-limits.ts): a value as raw bytes,
   * a value inside JSON, a value either way, a batch, or a Redis pipeline. Without it the route takes control-sized
   * bodies (MAX_CONTROL_BODY_BYTES) only.
   */
  readonly size?: BodySize;
  /**
   * A body that is a long list (a batch): its elements are checked a slice per event-loop turn
   * (core/turns.ts) once the list is longer than a slice, the rest of the body with `schema` as
   * usual. `field` names the list in the body object (absent: the body is the list); `limit`
   * is the list's length limit, checked before any element (zod would check it after all).
   */
  readonly elements?: ElementsContract;
}

export interface ElementsContract {
  readonly field?: string;
  readonly element: z.ZodType;
  readonly limit?: (config: AppConfig) => { readonly max: number; readonly message: string };
}

/** The kinds of large bodies a route may take (see edge/body-limits.ts for their limits). */
export type BodySize = 'value-raw' | 'value-json' | 'value-any' | 'batch' | 'pipeline';

/**
 * A route's contract, declared once next to its handler: what it takes (path parameters,
 * query, body) and every answer it gives. The same declaration validates the request at the
 * edge (see contract-validation.ts: parsed values replace `request.params`, `query` and
 * `body`, so handlers receive checked, typed input) and is a path of the OpenAPI document
 * (see openapi/openapi-document.ts). Errors every route shares (401, 413, 429, 503, the 400 of
 * a bad input) are added by the document builder from the route's shape, in its family's
 * error format (its profile, src/families/).
 */
export interface RouteContract {
  readonly family: RouteFamily;
  readonly summary: string;
  readonly description?: string;
  /** Answers without a token (health, metrics, docs, the landing page). */
  readonly public?: boolean;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodType;
  readonly body?: BodyContract;
  /** Every status this route answers besides the shared ones, success first. */
  readonly responses: Readonly<Record<number, ResponseContract>>;
  /** Overrides the security requirement of the family (the metrics token). */
  readonly security?: ReadonlyArray<Record<string, string[]>>;
}

/** The contract's place in Fastify's route config (Nest's `@RouteConfig`, or `config:` of a Fastify route). */
export interface ContractRouteConfig {
  readonly contract?: RouteContract;
  readonly public?: boolean;
}

export const contractOf = (config: unknown): RouteContract | undefined => (config as ContractRouteConfig | undefined)?.contract;

/** Declares a Nest handler's contract (and `@Public()` when the contract says so: both live in the route config). */
export const Route = (contract: RouteContract): MethodDecorator => mergeRouteConfig({ ...routeConfigOf(contract) });

/** The route config for a Fastify route registered by hand. */
export const routeConfigOf = (contract: RouteContract): ContractRouteConfig => (contract.public ? { contract, public: true } : { contract });

export const resolveSchema = (source: SchemaSource | undefined, config: AppConfig): z.ZodType | undefined =>
  source === undefined ? undefined : typeof source === 'function' && !(source instanceof z.ZodType) ? source(config) : (source as z.ZodType);

/** JSON answer helper: `json(schema, 'what it is', example)`. */
export const json = (schema: z.ZodType, description: string, example?: unknown): ResponseContract => ({ description, contentType: 'application/json', schema, example });
/** An answer without a body. */
export const empty = (description: string): ResponseContract => ({ description });
/** An error answer specific to the route (its body is the family's error format), with the codes it carries. */
export const error = (description: string, ...codes: string[]): ResponseContract => (codes.length > 0 ? { description, codes } : { description });

/**
 * The component names of request and response models in the OpenAPI document (`named('CachedValue', z.object(...))`):
 * a code generator makes its types from them. A model left unnamed gets one from its operation.
 */
export const schemaNames = z.registry<{ name: string }>();
export function named<T extends z.ZodType>(name: string, schema: T): T {
  schemaNames.add(schema, { name });
  return schema;
}
