import { z } from 'zod';
import { RouteContract, json } from '../contract/route-contract';

const HealthCheck = z.object({
  status: z.enum(['ok', 'error', 'shutting_down']),
  info: z.record(z.string(), z.object({ status: z.string() }).catchall(z.unknown())).optional(),
  error: z.record(z.string(), z.object({ status: z.string() }).catchall(z.unknown())).optional(),
  details: z.record(z.string(), z.object({ status: z.string() }).catchall(z.unknown())),
});
const healthExample = { status: 'ok', info: { storage: { status: 'up' } }, error: {}, details: { storage: { status: 'up' } } };
const unavailable = json(HealthCheck, 'not ready (the database is not open, recovery is under way, or the service is shutting down)', {
  status: 'error',
  info: {},
  error: { storage: { status: 'down' } },
  details: { storage: { status: 'down' } },
});

/**
 * Public operational routes that their part registers with `@Public()` alone (health,
 * metrics, the landing page and the console): described here, by method and OpenAPI path,
 * from their known shape. A route that has a contract of its own wins over this list.
 */
export const DESCRIBED_ROUTES: Readonly<Record<string, RouteContract>> = {
  'GET /': {
    family: 'operations',
    summary: 'The landing page: version and links to /docs, /console and /health/ready',
    public: true,
    responses: {
      200: { description: 'JSON (or HTML for a browser)', contentType: 'application/json', schema: z.object({ name: z.string(), version: z.string() }).catchall(z.unknown()) },
    },
  },
  'GET /health/live': {
    family: 'operations',
    summary: 'Liveness (@nestjs/terminus): the process answers',
    public: true,
    responses: { 200: json(HealthCheck, 'alive', healthExample) },
  },
  'GET /health/ready': {
    family: 'operations',
    summary: 'Readiness: the database is open and start-up recovery is done; not ready while shutting down',
    public: true,
    responses: { 200: json(HealthCheck, 'ready', healthExample), 503: unavailable },
  },
  'GET /metrics': {
    family: 'operations',
    summary: 'Prometheus metrics (text exposition format), behind METRICS_TOKEN',
    public: true,
    security: [{ metricsToken: [] }],
    responses: {
      200: { description: 'metrics', contentType: 'text/plain', schema: z.string(), example: '# HELP http_requests_total Requests by route and status\n# TYPE http_requests_total counter\n' },
      401: { description: 'no METRICS_TOKEN, or a wrong one' },
    },
  },
  'GET /console': {
    family: 'operations',
    summary: 'The web console (static HTML; it uses only the public HTTP API)',
    public: true,
    responses: { 200: { description: 'the console', contentType: 'text/html', schema: z.string() } },
  },
};
