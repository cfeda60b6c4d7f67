import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, HTTPMethods } from 'fastify';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';

const BASE = '/1/projects/:projectId/caches';
const ROUTES: ReadonlyArray<[string, HTTPMethods[]]> = [
  [BASE, ['GET']],
  [`${BASE}/:cacheName`, ['GET', 'DELETE']],
  [`${BASE}/:cacheName/clear`, ['POST']],
  [`${BASE}/:cacheName/items/:key`, ['GET', 'PUT', 'DELETE']],
  [`${BASE}/:cacheName/items/:key/increment`, ['POST']],
];
const VERBS: HTTPMethods[] = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'];

/**
 * IronCache answers a verb an endpoint does not support with 405 (not 404): the other
 * verbs of each IronCache path are routed here. Runs after Nest registered its routes.
 */
@Injectable()
export class IronCacheMethodNotAllowed implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    for (const [url, allowed] of ROUTES) {
      const method = VERBS.filter((verb) => !allowed.includes(verb));
      fastify.route({
        method,
        url,
        handler: (request, reply) => {
          void reply.header('allow', allowed.join(', '));
          sendError(new ApiError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not supported here; use ${allowed.join(' or ')}`), request, reply);
        },
      });
    }
  }
}
