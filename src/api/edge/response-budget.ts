import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error';
import { answerQueueFull, answerReservation } from './unread-answers';
import type { AnswerReservation } from '../../core/answer-budget';

/** Length of the base64 text of `bytes` bytes. */
export const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/** Bytes a JSON string of `text` takes, quotes and a separator included (escapes aside). */
export const jsonStringBytes = (text: string): number => Buffer.byteLength(text, 'utf8') + 3;

/** Bytes counted before they are reserved against the org's share (an answer smaller than this is never refused). */
const RESERVE_STEP = 16 * 1024;

/**
 * Counts the bytes a response will take while its parts are gathered, before any of them is
 * encoded, and refuses it:
 * - with 413 RESPONSE_TOO_LARGE once it would pass MAX_RESPONSE_BYTES: a request of a few KB
 *   must not make the service build gigabytes;
 * - given its request, with 429 ANSWER_QUEUE_FULL once the bytes it reserved against its org's
 *   ANSWER_QUEUE_ORG_BYTES (src/core/answer-budget.ts) would take the org past its share,
 *   counting the answers its other connections hold unread and those being built at the same
 *   moment. The refusal comes before the big allocation, and the reservation becomes the
 *   connection's charge when the answer is handed to the socket.
 */
export class ResponseBudget {
  private used = 0;
  private reserved = 0;
  private readonly reservation: AnswerReservation | undefined;

  constructor(
    private readonly limit: number,
    private readonly what: string,
    request?: FastifyRequest,
  ) {
    this.reservation = request === undefined ? undefined : answerReservation(request);
  }

  /** The bytes counted so far. */
  get measured(): number {
    return this.used;
  }

  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) {
      throw ApiError.of('RESPONSE_TOO_LARGE', `${this.what} would be larger than MAX_RESPONSE_BYTES (${this.limit} bytes); ask for fewer items`);
    }
    const reservation = this.reservation;
    if (reservation !== undefined && this.used - this.reserved >= RESERVE_STEP) {
      if (!reservation.take(this.used - this.reserved)) throw answerQueueFull(reservation);
      this.reserved = this.used;
    }
  }
}
