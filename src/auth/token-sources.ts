import { Principal } from './principal';

/**
 * What a token source reads of a request: its headers, its parsed query and path parameters.
 * A Fastify request is one; nothing here depends on the transport's types.
 */
export interface TokenRequest {
  readonly headers: { readonly authorization?: string };
  readonly query?: unknown;
  readonly params?: unknown;
}

/**
 * Where an API family's token travels, and what else its principal must satisfy. Each family
 * declares its own in its profile (src/families/); the edge authenticates every request once,
 * in Fastify's `onRequest` (before any body is read), with the source of the family its path
 * belongs to; the families' guards and handlers only read the principal.
 */
export interface TokenSource {
  extract(request: TokenRequest): string | undefined;
  /** Throws when the principal may not make this request (e.g. another IronCache project). */
  authorize?(principal: Principal, request: TokenRequest): void;
}

/** A non-empty query parameter, if the request has it. */
export function queryParam(request: TokenRequest, name: string): string | undefined {
  const query = request.query as Record<string, unknown> | undefined | null;
  const value = query !== undefined && query !== null && Object.hasOwn(query, name) ? query[name] : undefined;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A path parameter, if the route has it. */
export function pathParam(request: TokenRequest, name: string): string | undefined {
  const params = request.params as Record<string, string | undefined> | undefined | null;
  return params !== undefined && params !== null && Object.hasOwn(params, name) ? params[name] : undefined;
}

/** `Authorization: Bearer <JWT>`: the native API, history, settings and tasks. */
export const bearerTokenSource: TokenSource = {
  extract: (request) => {
    const header = request.headers.authorization;
    return header !== undefined && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
  },
};

export class ForbiddenProjectError extends Error {
  readonly code = 'FORBIDDEN';
  constructor() {
    super('this token has no access to that project');
  }
}
