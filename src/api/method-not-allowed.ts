import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, HTTPMethods, RouteOptions } from 'fastify';
import { isPublicRoute } from '../auth/public.decorator';
import { ApiError } from './errors/api-error';
import { sendError } from './errors/http-error.filter';

/** The verbs a path that exists answers with 405 when it does not serve them. */
const VERBS: readonly HTTPMethods[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'];

/** `/cacheName/:cacheName` and `/cacheName/:name` are one path to the router. */
const shapeOf = (url: string) => url.replace(/\/+$/, '').replace(/:[^/]+/g, ':') || '/';

/**
 * A verb sent to a path that exists but does not serve it is 405 with `Allow` (not 404), in
 * every API family, each in its own error format (`sendError` picks it by path). One
 * implementation for all families: the paths and their verbs are read from the routes as
 * they are registered (Nest's and the Fastify-direct ones), so `Allow` cannot disagree with
 * the routes. A path owns its verbs: `POST /cache/x` is Momento's 405, not a native write to
 * a cache named `cache` (static segments win, as they already did for the served verbs).
 *
 * Constructed before any route exists (Nest builds providers before `app.init()` registers
 * its routes, and `createApp` adds the direct ones after that); the 405 routes are added in
 * `onModuleInit`, once every route is known and before Fastify is ready.
 *
 * A wrong verb on a public path (health, metrics, docs) is 405 with or without a token; on any
 * other path the token comes first (401 without one), as for every route there.
 */
@Injectable()
export class MethodNotAllowed implements OnModuleInit {
  private readonly paths = new Map<string, { url: string; methods: Set<string>; public: boolean }>();
  private readonly fastify: FastifyInstance;

  constructor(adapterHost: HttpAdapterHost) {
    this.fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.fastify.addHook('onRoute', (route: RouteOptions) => this.record(route));
  }

  private record(route: RouteOptions): void {
    if ((route.config as { methodNotAllowed?: boolean } | undefined)?.methodNotAllowed || route.url.includes('*')) return;
    const shape = shapeOf(route.url);
    let path = this.paths.get(shape);
    if (path === undefined) this.paths.set(shape, (path = { url: route.url, methods: new Set(), public: true }));
    for (const method of [route.method].flat()) path.methods.add(method.toUpperCase());
    // A path is public when every route on it is: its 405 then needs no token either.
    path.public &&= isPublicRoute(route.config);
  }

  onModuleInit(): void {
    for (const { url, methods, public: isPublic } of this.paths.values()) {
      if (methods.has('GET')) methods.add('HEAD'); // Fastify serves HEAD wherever GET is
      const refused = VERBS.filter((verb) => !methods.has(verb));
      if (refused.length === 0) continue;
      // HEAD goes without saying where GET is allowed (RFC 9110 §9.3.2), so it is not listed.
      const allowed = VERBS.filter((verb) => methods.has(verb) && verb !== 'HEAD');
      const allow = allowed.join(', ');
      this.fastify.route({
        method: refused as HTTPMethods[],
        url,
        config: isPublic ? { methodNotAllowed: true, public: true } : { methodNotAllowed: true },
        exposeHeadRoute: false,
        handler: (request, reply) => {
          void reply.header('allow', allow);
          sendError(ApiError.of('METHOD_NOT_ALLOWED', `${request.method} is not supported here; use ${allowed.join(' or ')}`), request, reply);
        },
      });
    }
  }
}
