/**
 * Every stable error code cachelog answers with, once: the HTTP status it maps to, the
 * prefix of its RESP error (`-ERR ...`, `-NOAUTH ...`) and a default text. Each API family
 * renders its own body from these; a family may word the text its own way, never change the
 * code. Messages may change; codes may not.
 */
export interface CatalogueEntry {
  readonly status: number;
  /** The first word of a RESP error reply. */
  readonly resp: string;
  readonly text: string;
}

const entry = (status: number, resp: string, text: string): CatalogueEntry => ({ status, resp, text });

export const ERROR_CATALOGUE = {
  // Domain rejections (src/domain/errors.ts)
  CACHE_NOT_FOUND: entry(400, 'ERR', 'cache does not exist'),
  KEY_NOT_FOUND: entry(400, 'ERR', 'key does not exist'),
  QUOTA_EXCEEDED: entry(400, 'OOM', 'the organisation has reached its byte quota'),
  VALUE_TOO_LARGE: entry(413, 'ERR', 'the value is larger than allowed'),
  INVALID_ARGUMENT: entry(400, 'ERR', 'invalid argument'),
  KEY_EXISTS: entry(409, 'ERR', 'the key already exists'),
  CAS_MISMATCH: entry(409, 'ERR', 'the key was changed since'),
  NOT_A_NUMBER: entry(400, 'ERR', 'value is not an integer or out of range'),
  NUMBER_OUT_OF_RANGE: entry(400, 'ERR', 'increment or decrement would overflow'),
  NOT_A_FLOAT: entry(400, 'ERR', 'value is not a valid float'),
  NOT_FINITE: entry(400, 'ERR', 'increment would produce NaN or Infinity'),
  EMPTY_VALUE_REJECTED: entry(400, 'ERR', 'this cache does not store empty values'),
  CACHE_LIMIT_REACHED: entry(409, 'ERR', 'the organisation has reached its number of caches'),
  TOO_MANY_EVENTS: entry(409, 'ERR', 'the command would append more events than allowed'),
  DISK_BUDGET_EXCEEDED: entry(400, 'OOM', 'the organisation has reached its disk budget'),
  // Requests
  INVALID_REQUEST: entry(400, 'ERR', 'invalid request'),
  INVALID_JSON: entry(400, 'ERR', 'the body is not valid JSON'),
  JSON_TOO_DEEP: entry(400, 'ERR', 'the JSON body is nested too deeply'),
  NOT_FOUND: entry(404, 'ERR', 'no such route'),
  TASK_NOT_FOUND: entry(404, 'ERR', 'no such task'),
  METHOD_NOT_ALLOWED: entry(405, 'ERR', 'method not allowed'),
  NOT_ACCEPTABLE: entry(406, 'ERR', 'not acceptable'),
  NOT_MODIFIED: entry(304, 'ERR', 'not modified'),
  PAYLOAD_TOO_LARGE: entry(413, 'ERR', 'the request is larger than allowed'),
  RESPONSE_TOO_LARGE: entry(413, 'ERR', 'the answer would be larger than MAX_RESPONSE_BYTES'),
  URI_TOO_LONG: entry(414, 'ERR', 'the request line is longer than allowed'),
  UNSUPPORTED_MEDIA_TYPE: entry(415, 'ERR', 'unsupported media type'),
  HISTORY_COMPACTED: entry(410, 'ERR', 'that part of the history was compacted'),
  EXPORT_NOT_READY: entry(409, 'ERR', 'the export task has not succeeded'),
  EXPORT_GONE: entry(410, 'ERR', 'the export file is not on this node any more'),
  POINT_IN_TIME_TOO_COSTLY: entry(422, 'ERR', 'the point-in-time read would replay too many events'),
  POINT_IN_TIME_TOO_LARGE: entry(422, 'ERR', 'the point-in-time read would decode more bytes than allowed'),
  MIN_SEQ_NOT_REACHED: entry(400, 'TRYAGAIN', 'the cache has not reached the sequence asked for'),
  // Auth and limits
  UNAUTHORIZED: entry(401, 'WRONGPASS', 'invalid username-password pair or user is disabled.'),
  FORBIDDEN: entry(403, 'NOPERM', 'forbidden'),
  METRICS_TOKEN_INVALID: entry(401, 'WRONGPASS', 'the metrics token is invalid'),
  METRICS_DISABLED: entry(404, 'ERR', 'metrics are disabled'),
  RATE_LIMITED: entry(429, 'ERR', 'rate limit exceeded'),
  TOO_MANY_STREAMS: entry(429, 'ERR', 'too many event streams'),
  TOO_MANY_TASKS: entry(429, 'ERR', 'too many tasks'),
  TOO_MANY_POINT_IN_TIME_READS: entry(429, 'ERR', 'too many point-in-time reads running for the organisation'),
  EXPORT_LIMIT_EXCEEDED: entry(429, 'ERR', 'export limit exceeded'),
  TOO_MANY_CONNECTIONS: entry(503, 'ERR', 'too many connections are open (429 when it is this address that holds too many)'),
  ANSWER_QUEUE_FULL: entry(429, 'ERR', "the organisation's clients hold too many bytes of answers they have not read"),
  // Storage and the service
  JOURNAL_UNAVAILABLE: entry(503, 'TRYAGAIN', 'the journal is unavailable; nothing was written'),
  JOURNAL_CONTENDED: entry(503, 'TRYAGAIN', 'another node kept writing the cache; nothing was written'),
  STORAGE_UNAVAILABLE: entry(503, 'TRYAGAIN', 'storage is unavailable; try again'),
  PROJECTION_UNAVAILABLE: entry(503, 'TRYAGAIN', 'a read model is unavailable; try again'),
  NOT_READY: entry(503, 'TRYAGAIN', 'the service is not ready'),
  TASKS_UNAVAILABLE: entry(503, 'TRYAGAIN', 'tasks are unavailable'),
  COMMAND_FAILED: entry(500, 'ERR', 'the command could not be carried out; nothing was changed'),
  INTERNAL: entry(500, 'ERR', 'internal error'),
} as const satisfies Record<string, CatalogueEntry>;

export type CatalogueCode = keyof typeof ERROR_CATALOGUE;

export const isCatalogued = (code: string): code is CatalogueCode => Object.hasOwn(ERROR_CATALOGUE, code);

/** The entry of a code; a code not in the catalogue is an internal error. */
export function catalogueEntry(code: string): CatalogueEntry {
  return isCatalogued(code) ? ERROR_CATALOGUE[code] : ERROR_CATALOGUE.INTERNAL;
}

/** An error that carries a catalogued code (every error class cachelog throws to a client does). */
export interface CodedError {
  readonly code: string;
  readonly message: string;
}

export function isCodedError(error: unknown): error is CodedError & Error {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && isCatalogued(code);
}

/**
 * The text of a RESP error for a code: the catalogue's prefix, then the message (or the
 * default text). CR and LF would end the reply early, so they become spaces.
 */
export function respErrorText(code: string, message?: string): string {
  const { resp, text } = catalogueEntry(code);
  return `${resp} ${(message ?? text).replace(/[\r\n]+/g, ' ')}`;
}

/** A refusal raised in the core (no transport): each API family and RESP word it from its catalogued code. */
export class CataloguedError extends Error {
  /** The HTTP status the catalogue gives its code. */
  readonly status: number;

  constructor(
    readonly code: CatalogueCode,
    message: string = ERROR_CATALOGUE[code].text,
  ) {
    super(message);
    this.status = ERROR_CATALOGUE[code].status;
  }
}
