import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { EntityRegistry, SeqNotReachedError } from '../../entities/entity-registry';
import { cacheNameArg } from '../../redis/engine/args';
import { RedisEngine, isPending } from '../../redis/engine/engine';
import { RedisError, RedisReply, error, replyBytes } from '../../redis/engine/reply';
import { Session } from '../../redis/engine/session';
import { encodeReply } from '../../redis/resp/resp-encoder';
import { MAX_DEVICE_ID } from '../cache.service';
import { RouteContract, routeConfigOf } from '../contract/route-contract';
import { familyOfRequest } from '../edge/request-family';
import { base64Length } from '../edge/response-budget';
import { answerQueueFull, answerReservation } from '../edge/unread-answers';
import type { AnswerReservation } from '../../core/answer-budget';
import { ApiError } from '../errors/api-error';
import { sendError } from '../errors/http-error.filter';
import { SESSION_COMMANDS, badInput, commandOf, commandsOf, jsonBody, notOverHttp, pathCommand, syncTokenOf } from './upstash-input';
import { replyJson, resultJson } from './upstash-reply';
import { UpstashContracts } from './upstash.contracts';

type Shape = 'path' | 'body' | 'pipeline' | 'multi';

const JSON_TYPE = 'application/json';

/**
 * The Upstash-compatible Redis REST API over the one Redis command engine (the RESP listener's):
 * a request is a short-lived engine Session on the cache its URL names (`/redis`: `0`,
 * `/redis/db/<cache>`), with the principal the edge verified (same JWTs, walls, rate limit:
 * the edge counts the request and it pays for its first command; quotas are the core's). Its
 * commands run as a RESP connection's would, in order, a write not waiting for the next command
 * (so a pipeline's writes share group commits) and a read waiting for the writes before it.
 *
 * Bodies are read raw whatever their content type (Upstash's curl examples send form-encoded
 * JSON) and parsed here, so a path command's body is its exact bytes.
 */
@Injectable()
export class UpstashRoutes {
  constructor(
    private readonly engine: RedisEngine,
    private readonly registry: EntityRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  register(fastify: FastifyInstance): void {
    const route = (method: HTTPMethods | HTTPMethods[], url: string, contract: RouteContract, shape: Shape) =>
      fastify.route({
        method,
        url,
        config: { ...routeConfigOf(contract), validatesInline: true },
        // Every body reaches the handler as raw bytes (the edge's '*' parser, with this route's limit).
        onRequest: (request, _reply, done) => {
          const headers = request.headers;
          if (headers['content-type'] !== undefined || headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) {
            headers['content-type'] = 'application/octet-stream';
          }
          done();
        },
        handler: (request, reply) => this.serve(request, reply, shape),
      });
    const C = UpstashContracts;
    route('POST', '/redis', C.bodyCommand, 'body');
    route('POST', '/redis/pipeline', C.pipeline, 'pipeline');
    route('POST', '/redis/multi-exec', C.multiExec, 'multi');
    route('GET', '/redis/*', { ...C.pathCommand, body: undefined }, 'path');
    route(['POST', 'PUT'], '/redis/*', C.pathCommand, 'path');
    route('POST', '/redis/db/:db', C.dbBodyCommand, 'body');
    route('POST', '/redis/db/:db/pipeline', C.dbPipeline, 'pipeline');
    route('POST', '/redis/db/:db/multi-exec', C.dbMultiExec, 'multi');
    route('GET', '/redis/db/:db/*', { ...C.dbPathCommand, body: undefined }, 'path');
    route(['POST', 'PUT'], '/redis/db/:db/*', C.dbPathCommand, 'path');
    // Upstash answers HEAD, GET, POST and PUT; the other verbs are 405 here too (not a native route of a cache named `redis`).
    for (const url of ['/redis/*', '/redis/db/:db/*']) {
      fastify.route({
        method: ['DELETE', 'PATCH'],
        url,
        config: { methodNotAllowed: true },
        handler: (request, reply) => {
          void reply.header('allow', 'GET, POST, PUT');
          sendError(ApiError.of('METHOD_NOT_ALLOWED', `${request.method} is not supported here; use GET, POST or PUT`), request, reply);
        },
      });
    }
  }

  private serve(request: FastifyRequest, reply: FastifyReply, shape: Shape): void {
    this.answer(request, reply, shape).catch((caught) => sendError(caught, request, reply));
  }

  private async answer(request: FastifyRequest, reply: FastifyReply, asked: Shape): Promise<void> {
    let shape = asked;
    const { cache, rest, query } = this.locate(request);
    const base64 = isBase64(request.headers['upstash-encoding']);
    const resp2 = isResp2(request.headers['upstash-response-format']) && shape !== 'multi';
    if (resp2 && base64) throw badInput('Upstash-Encoding: base64 and Upstash-Response-Format: resp2 do not go together');
    const syncToken = syncTokenOf(request.headers['upstash-sync-token']);
    const edge = this.config.edge;
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    let commands: Buffer[][];
    // `POST /redis/` (a trailing slash) with a JSON array is the body form.
    if (shape === 'path' && body !== undefined && body.length > 0 && rest.every((segment) => segment === '')) shape = 'body';
    if (shape === 'path') commands = [pathCommand(rest, query, request.method === 'GET' || request.method === 'HEAD' ? undefined : body)];
    else if (shape === 'body') commands = [commandOf(jsonBody(request.body, edge.maxJsonDepth), 'the body')];
    else commands = commandsOf(jsonBody(request.body, edge.maxJsonDepth), edge.maxPipelineCommands, 'UPSTASH_MAX_PIPELINE_COMMANDS');
    if (commands[0].length === 0) throw badInput('no command: send /redis/<command>/<arg>/..., or POST a JSON array');

    const session = this.session(request, cache);
    if (syncToken > 0) await this.reach(request, cache, syncToken);

    let status = 200;
    let text: string | Buffer;
    // Replies are views of stored bytes until encoded: what each will weigh is counted first and
    // reserved against the org's share of unread answers, and a pipeline's or a transaction's
    // replies together are held to MAX_RESPONSE_BYTES, as MGET's are. Its writes have run by
    // now, so a reply beyond either bound becomes that command's error, never the whole answer's.
    const answer = new ReplyBudget(request, shape === 'pipeline' || shape === 'multi' ? edge.maxResponseBytes : Infinity, base64);
    if (shape === 'multi') {
      const exec = await this.transaction(session, commands);
      const outcome = exec.t === 'array' ? { ...exec, items: exec.items.map((item) => answer.bounded(item)) } : exec;
      status = outcome.t === 'error' ? 400 : 200;
      text = outcome.t === 'array' ? `[${outcome.items.map((item) => resultJson(item, base64)).join(',')}]` : resultJson(outcome, base64);
    } else {
      const replies = await this.run(session, commands.map((args) => (SESSION_COMMANDS.has(nameOf(args)) ? error(notOverHttp(nameOf(args))) : args)));
      if (shape === 'pipeline') {
        const bounded = replies.map((one) => answer.bounded(one));
        text = resp2 ? Buffer.concat(bounded.map((r) => encodeReply(r, 2))) : `[${bounded.map((r) => resultJson(r, base64)).join(',')}]`;
      } else {
        // One command: a read refused for its org's share is the family's 429, as on every route.
        answer.reserveOrRefuse(replies[0]);
        status = replies[0].t === 'error' ? 400 : 200;
        text = resp2 ? encodeReply(replies[0], 2) : resultJson(replies[0], base64);
      }
    }
    const token = Math.max(syncToken, session.lastWriteSeq);
    if (token > 0) void reply.header('upstash-sync-token', String(token));
    void reply.code(status).header('content-type', Buffer.isBuffer(text) ? 'application/octet-stream' : JSON_TYPE);
    await reply.send(text);
  }

  /** The cache (`0`, or the URL's `/db/<cache>`), the path's segments after it, and the raw query. */
  private locate(request: FastifyRequest): { cache: string; rest: string[]; query: string } {
    const url = request.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const segments = path.split('/').slice(2); // '', 'redis'
    const db = (request.params as Record<string, string | undefined>).db;
    if (db === undefined) return { cache: '0', rest: segments, query };
    let cache: string;
    try {
      cache = cacheNameArg(Buffer.from(db, 'utf8'));
    } catch (caught) {
      throw badInput(caught instanceof RedisError ? caught.reply.replace(/^ERR /, '') : 'invalid database');
    }
    return { cache, rest: segments.slice(2), query };
  }

  /** The request's engine session: its principal and token (checked again by the engine), its cache, its device. */
  private session(request: FastifyRequest, cache: string): Session {
    const socket = request.raw.socket;
    const session = new Session(this.engine.gateway.now(), `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`, `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`);
    session.principal = request.principal!;
    session.token = familyOfRequest(request).tokens.extract(request) ?? null;
    session.family = 'upstash';
    session.db = cache;
    // The edge counted this request against the rate limit: that pays for its first command.
    session.prepaid = 1;
    const device = request.headers['x-device-id'];
    if (typeof device === 'string' && device.length > 0) session.name = device.slice(0, MAX_DEVICE_ID);
    return session;
  }

  /** Read-your-writes on any node: waits until this node's copy of the cache is at `seq`. */
  private async reach(request: FastifyRequest, cache: string, seq: number): Promise<void> {
    try {
      await this.registry.reach({ org: request.principal!.org, name: cache }, seq);
    } catch (caught) {
      if (caught instanceof SeqNotReachedError) throw new ApiError(400, caught.code, `TRYAGAIN upstash-sync-token ${seq}: ${caught.message}`);
      throw caught;
    }
  }

  /**
   * Runs commands in order on one session, as a RESP connection does: a reply that is a barrier
   * (a read, a session change) is awaited before the next command; a write is not.
   */
  private async run(session: Session, commands: ReadonlyArray<Buffer[] | RedisReply>): Promise<RedisReply[]> {
    const replies: Array<RedisReply | Promise<RedisReply>> = [];
    for (const command of commands) {
      if (!Array.isArray(command)) {
        replies.push(command);
        continue;
      }
      const outcome = this.engine.execute(session, command);
      if (!isPending(outcome)) replies.push(outcome);
      else {
        replies.push(outcome.promise);
        if (outcome.barrier) await outcome.promise;
      }
    }
    return Promise.all(replies);
  }

  /**
   * MULTI, the commands, EXEC, through the engine: one journaled append. A command refused when
   * queued discards the transaction; its error says which.
   */
  private async transaction(session: Session, commands: readonly Buffer[][]): Promise<RedisReply> {
    const refused = commands.findIndex((args) => SESSION_COMMANDS.has(nameOf(args)));
    if (refused >= 0) return error(`EXECABORT Transaction discarded: command ${refused + 1}: ${notOverHttp(nameOf(commands[refused]))}`);
    const replies = await this.run(session, [[Buffer.from('MULTI')], ...commands, [Buffer.from('EXEC')]]);
    const queued = replies.slice(1, -1);
    const first = queued.findIndex((r) => r.t === 'error');
    const exec = replies[replies.length - 1];
    if (first >= 0 && exec.t === 'error') {
      return error(`${exec.s.replace(/\.$/, '')}: command ${first + 1}: ${(queued[first] as { s: string }).s}`);
    }
    return exec;
  }
}

/** Replies this small are never refused (an OK, a number): refusing them would cost what sending them does. */
const SMALL_REPLY = 1024;

/** What an answer's replies will weigh once encoded, counted before they are (see `answer`). */
class ReplyBudget {
  private total = 0;
  private readonly reservation: AnswerReservation | undefined;

  constructor(
    request: FastifyRequest,
    private readonly limit: number,
    private readonly base64: boolean,
  ) {
    this.reservation = answerReservation(request);
  }

  private size(reply: RedisReply): number {
    const raw = replyBytes(reply);
    return this.base64 ? base64Length(raw) : raw;
  }

  /** The reply, or an error in its place when it would take the answer past MAX_RESPONSE_BYTES or the org past its share. */
  bounded(reply: RedisReply): RedisReply {
    const size = this.size(reply);
    if (size <= SMALL_REPLY) return reply;
    if (this.total + size > this.limit) {
      return error(`ERR the answer would be larger than MAX_RESPONSE_BYTES (${this.limit}); ask for fewer values at a time`);
    }
    if (this.reservation !== undefined && !this.reservation.take(size)) {
      return error(`ERR ANSWER_QUEUE_FULL ${answerQueueFull(this.reservation).message}`);
    }
    this.total += size;
    return reply;
  }

  /** Reserves the one reply's bytes, or throws the 429 refusal. */
  reserveOrRefuse(reply: RedisReply): void {
    const size = this.size(reply);
    if (size > SMALL_REPLY && this.reservation !== undefined && !this.reservation.take(size)) throw answerQueueFull(this.reservation);
  }
}

const nameOf = (args: readonly Buffer[]): string => (args[0].length > 32 ? '' : args[0].toString('latin1').toLowerCase());
function isBase64(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const value = (Array.isArray(header) ? header[0] : header).trim().toLowerCase();
  if (value === 'base64') return true;
  if (value === '') return false;
  throw badInput(`Upstash-Encoding must be base64 (or absent), got ${JSON.stringify(value.slice(0, 40))}`);
}

function isResp2(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const value = (Array.isArray(header) ? header[0] : header).trim().toLowerCase();
  if (value === 'resp2') return true;
  if (value === 'json' || value === '') return false;
  throw badInput(`Upstash-Response-Format must be json or resp2, got ${JSON.stringify(value.slice(0, 40))}`);
}

export { replyJson };
