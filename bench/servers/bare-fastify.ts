import Fastify from 'fastify';
import { BODY_LIMIT, VALUE_100, announce, batchGetAnswer } from './common';

/** The limit of our own stack: bare Fastify with routes equivalent to cachelog's. */
async function main(): Promise<void> {
  const started = Date.now();
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
  app.post('/batch/get', async (request) => batchGetAnswer(request.body));
  app.get('/:cacheName/:key', async (_request, reply) => reply.header('content-type', 'application/octet-stream').send(VALUE_100));
  app.post('/:cacheName/:key', async (_request, reply) => reply.code(201).send());
  await app.listen({ port: Number(process.env.BENCH_PORT), host: '127.0.0.1' });
  announce(Number(process.env.BENCH_PORT), Date.now() - started);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
