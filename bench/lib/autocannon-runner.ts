/* eslint-disable @typescript-eslint/no-require-imports */
import type { LoadSpec, RequestSpec } from './load';

// autocannon ships no types; only the fields used here are declared.
const autocannon = require('autocannon') as (
  options: Record<string, unknown>,
) => Promise<{ requests: { total: number; average: number }; latency: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number; duration: number }>;

const spec = JSON.parse(process.argv[2]) as LoadSpec;

const bodyOf = (body: RequestSpec['body']) => (body === undefined ? undefined : typeof body === 'string' ? body : Buffer.alloc(body.bytes, 'x'));

function build(r: RequestSpec) {
  const body = bodyOf(r.body);
  const headers = { ...spec.headers, ...(r.contentType ? { 'content-type': r.contentType } : {}) };
  return () => ({
    method: r.method,
    path: r.keyed ? `${r.prefix}${Math.floor(Math.random() * spec.keys)}${r.suffix ?? ''}` : `${r.prefix}${r.suffix ?? ''}`,
    headers,
    body,
  });
}

async function main(): Promise<void> {
  const read = build(spec.read);
  const write = spec.write ? build(spec.write) : undefined;
  const result = await autocannon({
    url: `http://127.0.0.1:${spec.port}`,
    connections: spec.connections,
    duration: spec.durationS,
    requests: [{ setupRequest: () => (write && Math.random() * 100 < spec.writePct ? write() : read()) }],
  });
  const requests = result.requests.total;
  process.stdout.write(
    `${JSON.stringify({
      requests,
      rps: requests / spec.durationS,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
