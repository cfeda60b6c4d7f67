import type { FastifyRequest } from 'fastify';

/** A route's Fastify config: ours (`public`, the contract) plus Fastify's own `url` (the pattern) and `method`. */
export interface RouteConfig {
  readonly url?: string;
  readonly method?: string;
  readonly public?: boolean;
  readonly [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** `routeConfig(request)`'s memo (decorated by HttpEdge). */
    seenRouteConfig: RouteConfig | null;
  }
}

const NONE: RouteConfig = {};

/**
 * The config of the route serving `request`, read once per request: Fastify 5's
 * `request.routeOptions` builds an object of a dozen fields at every access, and the edge,
 * the ETag hook and the request observer each asked.
 */
export function routeConfig(request: FastifyRequest): RouteConfig {
  return (request.seenRouteConfig ??= (request.routeOptions.config as RouteConfig | undefined) ?? NONE);
}
