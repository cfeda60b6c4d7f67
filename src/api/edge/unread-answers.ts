import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { AnswerBudget, AnswerQueue, AnswerReservation, SMALL_ANSWER } from '../../core/answer-budget';
import { ApiError } from '../errors/api-error';
import { Metrics } from '../../ops/metrics';
import { familyOfRequest } from './request-family';

/** One HTTP connection's answers, as the budget sees them. */
interface Connection {
  readonly queue: AnswerQueue;
  /** Requests on it that passed the check and have not yet handed their answer to the socket. */
  producing: number;
  /** Requests of this connection waiting for room, woken in order. */
  readonly waiters: Array<() => void>;
}

const PRODUCING = Symbol('answer-producing');
const RESERVATION = Symbol('answer-reservation');

/** Every waiting request of the connection checks again (in the order they came). */
const wakeAll = (connection: Connection): void => connection.waiters.splice(0).forEach((wake) => wake());
type Tracked = FastifyRequest & { [PRODUCING]?: Connection; [RESERVATION]?: AnswerReservation };

/** What a 429 ANSWER_QUEUE_FULL says. */
const fullMessage = (budget: AnswerBudget, org: string): string =>
  `this org's connections hold ${budget.orgHeld(org)} bytes of answers their clients have not read and ${budget.orgReserved(org)} bytes of answers being built (ANSWER_QUEUE_ORG_BYTES is ${budget.limits.orgBytes}); read them, or close those connections`;

/** The refusal a handler throws when its answer's reservation is refused (429, `Retry-After: 1`, in the family's error format). */
export class AnswerQueueFullError extends ApiError {
  constructor(message: string) {
    super(429, 'ANSWER_QUEUE_FULL', message);
    this.retryAfterSeconds = 1;
  }
}

/**
 * The reservation of the answer `request` is producing, against its org's ANSWER_QUEUE_ORG_BYTES
 * (created on first use; undefined for a request the budget does not track). A handler that
 * builds a large answer takes its bytes as it measures them, before encoding anything
 * (ResponseBudget does), and is refused (AnswerQueueFullError) once its org's sockets and its
 * other answers in the making hold the share; the reservation becomes the connection's charge
 * when the answer is handed to the socket.
 */
export function answerReservation(request: FastifyRequest): AnswerReservation | undefined {
  const tracked = request as Tracked;
  const known = tracked[RESERVATION];
  if (known !== undefined) return known;
  const connection = tracked[PRODUCING];
  const org = request.principal?.org;
  if (connection === undefined || org === undefined) return undefined;
  const reservation = connection.queue.reserve(org);
  tracked[RESERVATION] = reservation;
  return reservation;
}

/** Reserves `bytes` for the answer `request` is producing, or throws the 429 refusal: call before building it. */
export function reserveAnswer(request: FastifyRequest, bytes: number): void {
  const reservation = answerReservation(request);
  if (reservation !== undefined && !reservation.take(bytes)) throw answerQueueFull(reservation);
}

/** The 429 a refused reservation throws. */
export const answerQueueFull = (reservation: AnswerReservation): AnswerQueueFullError => new AnswerQueueFullError(fullMessage(reservation.budget, reservation.org ?? ''));

/**
 * The answer budget (src/core/answer-budget.ts) at the HTTP edge, for every family: an answer
 * is charged to its connection and its org when it is handed to the socket (onSend) and given
 * back when the socket has written it out (the response's finish or close).
 *
 * - Before a handler produces anything (preHandler), a request waits while its connection
 *   holds ANSWER_QUEUE_CONNECTION_BYTES unread, or while an earlier request of the same
 *   connection is still producing: a client that pipelines requests for large answers and
 *   reads none has one answer built at a time, not one per request.
 * - While the org's connections hold ANSWER_QUEUE_ORG_BYTES (or its answers being built have
 *   reserved it), its requests are refused before they are produced (429 ANSWER_QUEUE_FULL with
 *   Retry-After). Concurrent requests all passed that check: a route that builds a large answer
 *   reserves its bytes while it measures them (answerReservation, ResponseBudget) and is refused
 *   before encoding once the org's share is taken; the reservation becomes the connection's
 *   charge here at hand-over. On a route that does not reserve, a larger answer that would take
 *   the org past its share is replaced by the refusal when it is handed over (built, then thrown away).
 * - A connection holding answers over either share whose client reads nothing for
 *   ANSWER_DRAIN_TIMEOUT_SECONDS is closed (the budget's sweep).
 *
 * A streamed answer (an export download) is paced by the socket already and charged nothing;
 * SSE streams have their own byte-bounded queues (SSE_QUEUE_BYTES).
 */
export function limitUnreadAnswers(fastify: FastifyInstance, budget: AnswerBudget): void {
  const connections = new WeakMap<Socket, Connection>();

  const connectionOf = (socket: Socket): Connection => {
    const known = connections.get(socket);
    if (known !== undefined) return known;
    const waiters: Array<() => void> = [];
    const queue = budget.open({ drop: () => socket.destroy(), pending: () => socket.writableLength, written: () => socket.bytesWritten - socket.writableLength });
    const opened: Connection = { queue, producing: 0, waiters };
    connections.set(socket, opened);
    socket.once('close', () => {
      queue.close();
      wakeAll(opened);
    });
    return opened;
  };

  const refusal = (request: FastifyRequest, reply: FastifyReply, org: string): string => {
    budget.refused++;
    const { contentType, body } = familyOfRequest(request).errors.render(429, 'ANSWER_QUEUE_FULL', fullMessage(budget, org));
    void reply.code(429).header('content-type', contentType).header('retry-after', '1').removeHeader('content-length').removeHeader('etag');
    return body;
  };

  const finished = (request: Tracked): void => {
    // An answer that was never handed over (its connection closed, or converted already): its reservation is given back.
    request[RESERVATION]?.release();
    const connection = request[PRODUCING];
    if (connection === undefined) return;
    request[PRODUCING] = undefined;
    connection.producing--;
    wakeAll(connection);
  };

  // Callback hooks: on the hot path they cost no promise when there is nothing to wait for.
  fastify.addHook('preHandler', (request: Tracked, reply, done) => {
    const socket = request.raw.socket;
    if (socket === null || socket.destroyed) return done();
    const org = request.principal?.org;
    const connection = connectionOf(socket);
    const attempt = (): void => {
      if (connection.producing === 0 && connection.queue.mayProduce(org)) {
        connection.producing++;
        request[PRODUCING] = connection;
        reply.raw.once('close', () => finished(request));
        return done();
      }
      if (budget.orgFull(org)) {
        void reply.send(refusal(request, reply, org!));
        return;
      }
      if (socket.destroyed) {
        // Closed while it waited (by its client, or by the budget's sweep for reading nothing): never produced.
        reply.hijack();
        return;
      }
      // Woken by the connection: an answer written out, an earlier request done, the close. No
      // deadline of its own: a connection that holds its share and reads nothing is closed by the
      // budget's sweep after ANSWER_DRAIN_TIMEOUT_SECONDS; one that reads, however slowly, is not.
      connection.waiters.push(attempt);
    };
    attempt();
  });

  fastify.addHook('onSend', (request: Tracked, reply, payload: unknown, done) => {
    const socket = request.raw.socket;
    if (socket === null || socket.destroyed) {
      finished(request);
      return done(null, payload);
    }
    const org = request.principal?.org;
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : Buffer.isBuffer(payload) ? payload.length : 0;
    // A small answer (a value of a few bytes, a refusal) is handed over uncharged: it cannot
    // move the budget, and Node itself stops reading a connection's pipelined requests while its
    // answers wait to be written. Charging it cost every GET two listeners and a closure.
    if (bytes <= SMALL_ANSWER && request[RESERVATION] === undefined && !(payload instanceof Readable)) {
      finished(request);
      return done(null, payload);
    }
    let answer = payload;
    let size = bytes;
    // An answer whose reservation was granted while it was measured passed the org check then
    // (concurrent producers saw each other's reservations); the others are checked now, and one
    // that would take the org past its share is replaced by the refusal (built, then thrown away).
    const reservation = request[RESERVATION];
    const admitted = reservation?.holding === true && reservation.bytes > 0;
    if (org !== undefined && !admitted && !(payload instanceof Readable) && budget.wouldOverflow(org, bytes)) {
      answer = refusal(request, reply, org);
      size = Buffer.byteLength(answer as string);
      budget.refusedAfterBuilt++;
    }
    const connection = connectionOf(socket);
    // A streamed answer that was measured (the batch answer) is produced as its client reads:
    // it is charged at what it was measured at until it is written out, as a built one is.
    if (answer instanceof Readable && reservation?.holding) size = reservation.bytes;
    const charged = connection.queue.charge(org, size, reservation);
    const release = () => {
      charged();
      wakeAll(connection);
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
    finished(request);
    done(null, answer);
  });
}

/** Reports the answer budget (HTTP and RESP) as metrics; its HTTP hooks are a stage of the pipeline (http-pipeline.ts). */
@Injectable()
export class UnreadAnswers implements OnModuleInit {
  constructor(
    private readonly budget: AnswerBudget,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const budget = this.budget;
    this.metrics.gauge('cachelog_unread_answer_bytes', 'Bytes of answers handed to sockets (HTTP and RESP) and not yet taken by their clients', [], (g) => g.set(budget.total));
    this.metrics.gauge('cachelog_unread_answer_events', 'Connections closed for not reading their answers; answers refused because the org held (or was building) ANSWER_QUEUE_ORG_BYTES, and of those the ones refused only after they were built; large answers handed over under a granted reservation', ['outcome'], (g) => {
      g.set({ outcome: 'dropped' }, budget.dropped);
      g.set({ outcome: 'refused' }, budget.refused);
      g.set({ outcome: 'refused_after_built' }, budget.refusedAfterBuilt);
      g.set({ outcome: 'admitted' }, budget.admitted);
    });
  }
}

@Module({ providers: [UnreadAnswers] })
export class UnreadAnswersModule {}
