import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';

/**
 * Adds to a Nest handler's Fastify route config (what `@RouteConfig` sets) instead of
 * replacing it, so `@Public()` and `@Route(contract)` can mark the same handler in any order.
 */
export const mergeRouteConfig =
  (config: Record<string, unknown>): MethodDecorator =>
  (_target, _key, descriptor) => {
    const existing = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, descriptor.value as object) as Record<string, unknown> | undefined) ?? {};
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...existing, ...config }, descriptor.value as object);
    return descriptor;
  };

/**
 * Marks a route handler that answers without a token (health, metrics, docs, the landing
 * page). Every other route is authenticated by the edge before its body is read. Put it on
 * each handler (Nest's Fastify adapter reads route config per handler, not per controller);
 * Fastify routes registered by hand say the same with `config: { public: true }`.
 */
export const Public = (): MethodDecorator => mergeRouteConfig({ public: true });

export const isPublicRoute = (config: unknown): boolean => (config as { public?: unknown } | undefined)?.public === true;
