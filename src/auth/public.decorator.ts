import { RouteConfig } from '@nestjs/platform-fastify';

/**
 * Marks a route handler that answers without a token (health, metrics, docs, the landing
 * page). Every other route is authenticated by the edge before its body is read. Put it on
 * each handler (Nest's Fastify adapter reads route config per handler, not per controller);
 * Fastify routes registered by hand say the same with `config: { public: true }`.
 */
export const Public = (): MethodDecorator => RouteConfig({ public: true });

export const isPublicRoute = (config: unknown): boolean => (config as { public?: unknown } | undefined)?.public === true;
