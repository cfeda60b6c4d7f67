import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { FastifyChildLoggerFactory } from 'fastify/types/logger';
import { Server } from 'node:http';
import { AppModule } from './app.module';
import { ApiError } from './api/errors/api-error';
import { sendError } from './api/errors/http-error.filter';
import { assembleHttpPipeline } from './api/http-pipeline';
import { AppConfig } from './config/config';
import { Clock } from './config/clock';
import { LazyRequestLogger, NestLogLevel, PinoNestLogger, createLogger, requestId } from './ops/logging';
import type { DestinationStream } from 'pino';
import { containUnhandledStreamErrors } from './journal/contained-subscriber';

export interface CreateAppOptions {
  readonly clock?: Clock;
  /** Nest-style levels to log (tests pass `['error']` to stay quiet); default: LOG_LEVEL. */
  readonly logger?: false | NestLogLevel[];
  /** Where log lines go instead of stdout (a test reads them). */
  readonly logDestination?: DestinationStream;
}

/** How often Node checks the request and headers timeouts (its default, 30 s, would let a trickled body live that long past them). */
const TIMEOUT_CHECK_MS = 1000;
const MAX_ENCODED_KEY = 12 * 1024;
/** Room in the request line for a percent-encoded name and key of full length (Node's default is 16 KiB). */
const MAX_HEADER_BYTES = 32 * 1024;

/** Builds the application (not yet listening): used by main.ts, the tests and the benchmark. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const edge = config.edge;
  const serverOptions = { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: edge.headersTimeoutMs, connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, edge.headersTimeoutMs) };
  const log = createLogger(config, { levels: options.logger, destination: options.logDestination });
  // A stream subscriber that does not contain its error is logged, never the process's end.
  containUnhandledStreamErrors();
  const adapter = new FastifyAdapter({
    // Each route's own limit applies (see api/edge/body-limits.ts); this is the largest.
    bodyLimit: Math.max(edge.maxValueJsonBytes, edge.maxBatchBodyBytes),
    // One pino logger for Fastify and Nest; requests are logged once, after the response (observeRequests).
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    // Fastify checks that it has pino's methods; it is not a whole pino Logger by type.
    childLoggerFactory: LazyRequestLogger.factory as unknown as FastifyChildLoggerFactory,
    // A key is up to 1024 code points; percent-encoded, each takes at most 12 characters.
    routerOptions: { maxParamLength: MAX_ENCODED_KEY, ignoreTrailingSlash: true },
    // Server timeouts: an idle socket, a slow request and an idle keep-alive connection end.
    connectionTimeout: edge.connectionIdleTimeoutMs,
    requestTimeout: edge.requestTimeoutMs,
    keepAliveTimeout: edge.keepAliveTimeoutMs,
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key, ...serverOptions } } : { http: serverOptions }),
    // Bad percent-encoding and oversize path parameters are refused by the router, before
    // Nest: answer them in the API's error format too (found by the HTTP fuzzer).
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      sendError(new ApiError(status, status === 414 ? 'URI_TOO_LONG' : 'INVALID_REQUEST', error.message), request, reply);
    },
  } as ConstructorParameters<typeof FastifyAdapter>[0]);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.clock), adapter, {
    logger: new PinoNestLogger(log),
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  const server = app.getHttpServer() as Server;
  server.headersTimeout = edge.headersTimeoutMs;
  // Every stage a request meets, in order, is declared in one place.
  assembleHttpPipeline(app, fastify, server, log);
  await app.init();
  await fastify.ready();
  return app;
}
