import { z } from 'zod';
import { RouteContract, error, json, named } from '../contract/route-contract';

const Indicators = z.record(z.string(), z.object({ status: z.enum(['up', 'down']) }).catchall(z.unknown()));
const HealthCheck = named('HealthCheck', z.object({ status: z.enum(['ok', 'error']), info: Indicators.optional(), error: Indicators.optional(), details: Indicators }));
const healthExample = { status: 'ok', info: { database: { status: 'up' }, lifecycle: { status: 'up', state: 'ready' } }, error: {}, details: { database: { status: 'up' }, lifecycle: { status: 'up', state: 'ready' } } };
const NotReady = named('NotReady', HealthCheck.extend({ code: z.literal('NOT_READY'), message: z.string() }));
const notReady = json(NotReady, 'not ready: the database is not open, start-up is under way, or the service is shutting down', {
  code: 'NOT_READY',
  message: 'the service is not ready',
  status: 'error',
  info: { database: { status: 'up' } },
  error: { lifecycle: { status: 'down', state: 'stopping' } },
  details: { database: { status: 'up' }, lifecycle: { status: 'down', state: 'stopping' } },
});
const html = (description: string) => ({ description, contentType: 'text/html', schema: z.string() });

/**
 * Public operational routes that their part (src/ops) registers with `@Public()` alone
 * (health, metrics, the landing page and the console): described here, by method and OpenAPI
 * path, from their known shape. A route that has a contract of its own wins over this list,
 * and the completeness test (test/e2e/openapi.spec.ts) fails for a route in neither.
 */
export const DESCRIBED_ROUTES: Readonly<Record<string, RouteContract>> = {
  'GET /': {
    family: 'operations',
    summary: 'The landing page: version and links to /docs, /console and /health/ready (HTML when the client accepts it)',
    public: true,
    responses: {
      200: json(named('ServiceInfo', z.object({ service: z.string(), version: z.string(), links: z.record(z.string(), z.string()) })), 'what this is, its version and its links', {
        service: 'cachelog',
        version: '0.1.0',
        links: { docs: '/docs', console: '/console', ready: '/health/ready', live: '/health/live', metrics: '/metrics' },
      }),
    },
  },
  'GET /health/live': {
    family: 'operations',
    summary: 'Liveness (@nestjs/terminus): the process answers',
    public: true,
    responses: { 200: json(HealthCheck, 'alive', { status: 'ok', info: { process: { status: 'up', uptimeSeconds: 42 } }, error: {}, details: { process: { status: 'up', uptimeSeconds: 42 } } }) },
  },
  'GET /health/ready': {
    family: 'operations',
    summary: 'Readiness: the database is open and start-up is done; not ready while shutting down',
    public: true,
    responses: { 200: json(HealthCheck, 'ready', healthExample), 503: notReady },
  },
  'GET /metrics': {
    family: 'operations',
    summary: 'Prometheus metrics (text exposition format), behind its own bearer token, METRICS_TOKEN',
    description: 'The bearer token here is METRICS_TOKEN, not a JWT.',
    public: true,
    security: [{ bearer: [] }],
    responses: {
      200: { description: 'metrics', contentType: 'text/plain', schema: z.string(), example: '# HELP cachelog_http_requests_total HTTP requests answered, by method, route pattern and status\n# TYPE cachelog_http_requests_total counter\n' },
      401: error('no METRICS_TOKEN given, or a wrong one', 'METRICS_TOKEN_INVALID'),
      404: error('metrics are off (no METRICS_TOKEN configured)', 'METRICS_DISABLED'),
    },
  },
  'GET /console': {
    family: 'operations',
    summary: 'The web console (static files in the repo; it uses only the public HTTP API)',
    public: true,
    responses: { 200: html('the console page') },
  },
  'GET /console/{file}': {
    family: 'operations',
    summary: "The console's static files",
    public: true,
    params: z.object({ file: z.string().meta({ example: 'console.js' }) }),
    responses: { 200: { description: 'the file (HTML, JavaScript, CSS or SVG)', contentType: 'application/octet-stream', schema: z.string().meta({ format: 'binary' }) }, 404: error('no such console file', 'NOT_FOUND') },
  },
};
