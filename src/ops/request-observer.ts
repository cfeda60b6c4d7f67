import type { FastifyInstance } from 'fastify';
import { Metrics } from './metrics';

/**
 * One hook after every response: counts it by route pattern (never the concrete URL, which
 * holds cache names and keys) and status, times it, and writes the one log line per request
 * (method, redacted URL, status, time, request id — no headers, no bodies).
 */
export function observeRequests(fastify: FastifyInstance, metrics: Metrics, logRequests: boolean): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.requests.inc({ method: request.method, route, status });
    metrics.requestSeconds.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (logRequests) {
      request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 100) / 100 }, 'request completed');
    }
    done();
  });
}
