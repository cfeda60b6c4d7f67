import { ApiError } from '../errors/api-error';

/** Length of the base64 text of `bytes` bytes. */
export const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/** Bytes a JSON string of `text` takes, quotes and a separator included (escapes aside). */
export const jsonStringBytes = (text: string): number => Buffer.byteLength(text, 'utf8') + 3;

/**
 * Counts the bytes a response will take while its parts are gathered, before any of them is
 * encoded, and refuses it with 413 RESPONSE_TOO_LARGE once it would pass MAX_RESPONSE_BYTES:
 * a request of a few KB must not make the service build gigabytes.
 */
export class ResponseBudget {
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {}

  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.limit) {
      throw new ApiError(
        413,
        'RESPONSE_TOO_LARGE',
        `${this.what} would be larger than MAX_RESPONSE_BYTES (${this.limit} bytes); ask for fewer items`,
      );
    }
  }
}
