import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { routeConfig } from '../api/edge/route-config';
import { requestLineWriter } from './logging';
import { Metrics } from './metrics';

/**
 * One hook after every response: counts it by route pattern (never the concrete URL, which
 * holds cache names and keys) and status, times it, and writes the one log line per request
 * (method, redacted URL, status, time, request id — no headers, no bodies).
 */
export function observeRequests(fastify: FastifyInstance, metrics: Metrics, log: PinoLogger): void {
  const writeLine = requestLineWriter(log);
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = routeConfig(request).url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.requests.inc({ method: request.method, route, status });
    metrics.requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    // Not through request.log: that would make the request's child logger (logging.ts).
    writeLine?.({ reqId: request.id, method: request.method, url: request.url, statusCode: status, responseTime: Math.round(reply.elapsedTime * 100) / 100 });
    done();
  });
}
