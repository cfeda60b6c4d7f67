import { ApiError } from '../errors/api-error';

/** A Buffer view of stored bytes: no copy. */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** The raw request body of a binary write (any content type but JSON is taken as bytes). */
export function requireBinaryBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  throw ApiError.of('UNSUPPORTED_MEDIA_TYPE', 'send the value as application/octet-stream');
}
