import { FastifyRequest } from 'fastify';
import { Principal } from './principal';

/**
 * Where each API family's token travels, and what else its principal must satisfy. The edge
 * authenticates every request once, in Fastify's `onRequest` (before any body is read), with
 * the source its path belongs to; the families' guards and handlers only read the principal.
 */
export interface TokenSource {
  readonly family: string;
  matches(path: string): boolean;
  extract(request: FastifyRequest): string | undefined;
  /** Throws when the principal may not make this request (e.g. another IronCache project). */
  authorize?(principal: Principal, request: FastifyRequest): void;
}

const queryParam = (request: FastifyRequest, name: string): string | undefined => {
  const query = request.query as Record<string, unknown> | undefined;
  const value = query !== undefined && query !== null && Object.hasOwn(query, name) ? query[name] : undefined;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/** The native API, history, settings and tasks: `Authorization: Bearer <JWT>`. */
export const bearerTokenSource: TokenSource = {
  family: 'native',
  matches: () => true,
  extract: (request) => {
    const header = request.headers.authorization;
    return header !== undefined && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
  },
};

/** IronCache: `Authorization: OAuth|Bearer <token>` or `?oauth=<token>`; the project id in the path is the token's org. */
export const ironCacheTokenSource: TokenSource = {
  family: 'ironcache',
  matches: (path) => /^\/1\/projects(?:[/?]|$)/.test(path),
  extract: (request) => {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^(?:OAuth|Bearer)\s+(\S+)\s*$/i.exec(header);
      if (match) return match[1];
    }
    return queryParam(request, 'oauth');
  },
  authorize: (principal, request) => {
    const params = request.params as Record<string, string | undefined> | undefined;
    const projectId = params !== undefined && Object.hasOwn(params, 'projectId') ? params.projectId : undefined;
    if (projectId !== undefined && projectId !== principal.org) throw new ForbiddenProjectError();
  },
};

/** Momento: `?token=<token>` or `Authorization: <token>` (with or without `Bearer`). */
export const momentoTokenSource: TokenSource = {
  family: 'momento',
  matches: (path) => /^\/cache(?:[/?]|$)/.test(path),
  extract: (request) => {
    const fromQuery = queryParam(request, 'token');
    if (fromQuery !== undefined) return fromQuery;
    const header = request.headers.authorization?.trim();
    if (!header) return undefined;
    return /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : header;
  },
};

/** Tried in order; Bearer is the fallback. */
const TOKEN_SOURCES: readonly TokenSource[] = [ironCacheTokenSource, momentoTokenSource, bearerTokenSource];

export function tokenSourceFor(path: string): TokenSource {
  return TOKEN_SOURCES.find((source) => source.matches(path))!;
}

export class ForbiddenProjectError extends Error {
  readonly code = 'FORBIDDEN';
  constructor() {
    super('this token has no access to that project');
  }
}
