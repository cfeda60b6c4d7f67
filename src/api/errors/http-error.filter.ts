import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError } from '../../auth/rate-limiter';
import { JournalUnavailableError } from '../../journal/journal';
import { describeStorageFault } from '../../journal/storage-fault';
import { catalogueEntry, isCodedError } from '../../core/error-catalogue';
import { ApiError } from './api-error';
import { familyOfRequest } from '../edge/request-family';

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** Maps any error to a status, a stable code and a message. Unknown errors are 500s, logged. */
export function classify(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message };
  // Every error class cachelog raises carries a catalogued code: the catalogue gives its status.
  if (isCodedError(error)) return { status: catalogueEntry(error.code).status, code: error.code, message: error.message };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return { status, code: STATUS_CODES[status] ?? `HTTP_${status}`, message: error.message };
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.code === 'string' && fastifyError.code.startsWith('LEVEL_')) {
    // A read while the database is being reopened after a fault: transient, and its message may name server paths.
    return { status: 503, code: 'STORAGE_UNAVAILABLE', message: `storage is unavailable (${describeStorageFault(error)}); try again` };
  }
  if (fastifyError?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than allowed (see MAX_VALUE_BYTES)' };
  }
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    return { status, code: STATUS_CODES[status] ?? `HTTP_${status}`, message: fastifyError.message ?? 'bad request' };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

const logger = new Logger('HttpError');

/** What heals storage after a fault (`Journal.report`). */
export interface StorageFaultReporter {
  report(error: unknown): void;
}

/** Each app's fault reporter, by its Fastify instance (tests run several apps in one process). */
const reporters = new WeakMap<object, StorageFaultReporter>();

/**
 * Every storage fault that reaches a client (a failed read of a read model, of history, of
 * task records...) is reported to the app's journal: no read path is left that fails
 * without the storage being healed.
 */
export function reportStorageFaultsTo(server: object, reporter: StorageFaultReporter): void {
  reporters.set(server, reporter);
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  // Journal refusals were reported where they were made (and fail fast while it heals).
  if (!(error instanceof JournalUnavailableError)) reporters.get(request.server)?.report(error);
  const { status, code, message } = classify(error);
  if (status >= 500 && status !== 503) logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  const { contentType, body } = familyOfRequest(request).errors.render(status, code, message);
  if (error instanceof RateLimitedError || (error instanceof ApiError && error.retryAfterSeconds !== undefined)) void reply.header('retry-after', String(error.retryAfterSeconds));
  // Refused before its body was read (token, size): close rather than read the rest.
  if (!request.raw.complete) void reply.header('connection', 'close');
  void reply.status(status).header('content-type', contentType).send(body);
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
