import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { ApiError } from './api/errors/api-error';
import { sendError } from './api/errors/http-error.filter';
import { parseJsonBody } from './api/json-body';
import { NativeFastRoutes } from './api/native/fast-routes';
import { AppConfig } from './config/config';
import { Clock } from './config/clock';

export interface CreateAppOptions {
  readonly clock?: Clock;
  readonly logger?: false | Array<'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal'>;
}

/** Builds the application (not yet listening): used by main.ts, the tests and the benchmark. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  // Base64 in JSON inflates values by 4/3; leave room for a full-size value plus the envelope.
  const jsonLimit = Math.ceil((config.maxValueBytes * 4) / 3) + 1024 * 1024;
  const adapter = new FastifyAdapter({
    bodyLimit: jsonLimit,
    logger: false,
    routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true },
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key } } : {}),
    // Bad percent-encoding and oversize path parameters are refused by the router, before
    // Nest: answer them in the API's error format too (found by the HTTP fuzzer).
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      sendError(new ApiError(status, status === 414 ? 'URI_TOO_LONG' : 'INVALID_REQUEST', error.message), request, reply);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.clock), adapter, {
    logger: options.logger ?? ['log', 'error', 'warn', 'fatal'],
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Values are bytes: every non-JSON body is taken raw, limited to MAX_VALUE_BYTES.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: jsonLimit }, (request, body, done) => {
    try {
      // JSON.parse, or the family's own parser (IronCache keeps numbers' exact text).
      done(null, body === '' ? undefined : parseJsonBody(request.url, body as string));
    } catch {
      done(new ApiError(400, 'INVALID_JSON', 'the request body is not valid JSON'), undefined);
    }
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.maxValueBytes }, (_request, body, done) => done(null, body));
  // The hottest native routes bypass Nest's per-request machinery (same auth, checks, errors).
  app.get(NativeFastRoutes).register(fastify);
  await app.init();
  await fastify.ready();
  return app;
}
