import { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../../auth/auth.service';
import { Principal } from '../../auth/principal';
import { isPublicRoute } from '../../auth/public.decorator';
import { RateLimiter } from '../../auth/rate-limiter';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { contractOf } from '../contract/route-contract';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';
import { BodyLimits, bodyLimitsFor, isJsonContentType } from './body-limits';
import { parseBoundedJson } from './json-body';
import { familyOfRequest } from './request-family';
import { routeConfig } from './route-config';

/**
 * The one place every request enters: in Fastify's `onRequest`, before any body is read or
 * parsed, the token is verified (where it travels depends on the API family, see
 * src/families/), the principal attached to the request and the principal's rate limit
 * applied, so every answer (304 included) has passed both; a body declared larger than the
 * route takes is refused next. Then bodies are read by the parsers registered here, each with
 * its route's limit, and JSON is checked for depth before it is parsed.
 * Routes marked `@Public()` (or `config: { public: true }`) skip the token.
 */
@Injectable()
export class HttpEdge {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  register(fastify: FastifyInstance): void {
    fastify.decorateRequest('principal', null);
    fastify.decorateRequest('seenRouteConfig', null);
    fastify.decorateRequest('seenFamily', null);
    fastify.addHook('onRequest', (request, reply, done) => {
      if (isPublicRoute(routeConfig(request))) return done();
      try {
        request.principal = this.authenticate(request);
        this.checkDeclaredLength(request);
      } catch (error) {
        sendError(error, request, reply);
        return;
      }
      done();
    });
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('application/json', (request: FastifyRequest, payload: IncomingMessage, done) => {
      readBody(payload, this.limitsOf(request).json, (error, body) => {
        if (error) return done(error, undefined);
        try {
          // JSON.parse, or the family's own parser (IronCache keeps numbers' exact text).
          done(null, parseBoundedJson(body!.toString('utf8'), this.config.edge.maxJsonDepth, familyOfRequest(request).parseJson));
        } catch (parseError) {
          done(parseError as Error, undefined);
        }
      });
    });
    // Values are bytes: every non-JSON body is taken raw.
    fastify.addContentTypeParser('*', (request: FastifyRequest, payload: IncomingMessage, done) => {
      readBody(payload, this.limitsOf(request).raw, (error, body) => done(error ?? null, body));
    });
  }

  /** The caller, or an AuthError / RateLimitedError / ForbiddenProjectError. */
  authenticate(request: FastifyRequest): Principal {
    const source = familyOfRequest(request).tokens;
    const token = source.extract(request);
    const principal = this.auth.verify(token);
    // Counted before the project check: a 403 is an answer too, and every answer is metered.
    // By the verified principal: the token's text (one of many for one caller) plays no part.
    this.limiter.admit(principal);
    source.authorize?.(principal, request);
    // A read-only token: the Redis families refuse its write commands one by one (NOPERM); elsewhere it may only read.
    if (principal.readOnly && request.method !== 'GET' && request.method !== 'HEAD' && familyOfRequest(request).id !== 'upstash') {
      throw ApiError.of('FORBIDDEN', 'this token is read-only (its readOnly claim): it may send GET and HEAD requests only');
    }
    return principal;
  }

  /**
   * Reads a raw body within the route's limit and hands it to `then`, or answers 413 and closes:
   * for a route that reads its body in its own `onRequest` rather than through the parsers
   * registered here (the hottest native write: Fastify's content-type parsing halved its
   * throughput), with the same reader, limit and answer.
   */
  readRawBody(request: FastifyRequest, reply: FastifyReply, then: (body: Buffer) => void): void {
    readBody(request.raw, this.limitsOf(request).raw, (error, body) => {
      if (error) return sendError(error, request, reply);
      then(body!);
    });
  }

  limitsOf(request: FastifyRequest): BodyLimits {
    return bodyLimitsFor(contractOf(routeConfig(request)), this.config.edge, this.config.maxValueBytes);
  }

  private checkDeclaredLength(request: FastifyRequest): void {
    const declared = request.headers['content-length'];
    if (declared === undefined || declared === '0') return;
    const limits = this.limitsOf(request);
    const limit = isJsonContentType(request.headers['content-type']) ? limits.json : limits.raw;
    if (Number(declared) > limit) throw tooLarge(limit);
  }
}

export function tooLarge(limit: number): ApiError {
  return ApiError.of('PAYLOAD_TOO_LARGE', `the request body is larger than this route takes (${limit} bytes; see docs/security.md)`);
}

/** Reads a body of at most `limit` bytes; stops reading at the first byte beyond it. */
function readBody(payload: IncomingMessage, limit: number, done: (error: Error | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  const cleanup = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      cleanup();
      done(tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => {
    cleanup();
    done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  };
  const onError = (error: Error) => {
    cleanup();
    done(error);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
}
