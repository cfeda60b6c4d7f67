import { queryParam } from '../auth/token-sources';
import type { FamilyProfile } from './family-profile';
import { tableWording } from './wording';

/** Status and text of each domain rejection, in Momento's terms. */
const MOMENTO_WORDING = {
  CACHE_NOT_FOUND: [404, 'Cache Not Found'],
  KEY_NOT_FOUND: [404, 'Key Not Found'],
  QUOTA_EXCEEDED: [429, 'Account limits exceeded: the organisation has reached its byte quota'],
  VALUE_TOO_LARGE: [400, 'Value too large for this cache'],
  INVALID_ARGUMENT: [400, 'Bad request'],
  KEY_EXISTS: [409, 'Key already exists'],
  CAS_MISMATCH: [409, 'Key was changed since'],
  NOT_A_NUMBER: [400, 'Value is not a number'],
  NUMBER_OUT_OF_RANGE: [400, 'Number out of range'],
  NOT_A_FLOAT: [400, 'Value is not a valid float'],
  NOT_FINITE: [400, 'Result is not a finite number'],
  EMPTY_VALUE_REJECTED: [400, 'This cache does not store empty values'],
  CACHE_LIMIT_REACHED: [429, 'Account limits exceeded: the organisation has reached its maximum number of caches'],
  TOO_MANY_EVENTS: [409, 'The command would change too many keys at once'],
} as const;

/**
 * The Momento-compatible HTTP API, `/cache/{cacheName}?key=...`: the token as `?token=` or
 * `Authorization: <token>` (with or without `Bearer`); errors are plain text (`Key Not
 * Found`, `Cache Not Found`, ...).
 */
export const momento: FamilyProfile = {
  id: 'momento',
  prefix: /^\/cache(?:[/?]|$)/,
  tokens: {
    extract: (request) => {
      const fromQuery = queryParam(request, 'token');
      if (fromQuery !== undefined) return fromQuery;
      const header = request.headers.authorization?.trim();
      if (!header) return undefined;
      return /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : header;
    },
  },
  errors: {
    render: (_status, _code, message) => ({ contentType: 'text/plain; charset=utf-8', body: message }),
    schema: { contentType: 'text/plain', component: 'MomentoError', schema: { type: 'string' }, example: 'Key Not Found' },
  },
  parseJson: (text) => JSON.parse(text),
  // The domain's detail is shown for a bad argument only.
  word: tableWording(MOMENTO_WORDING, (code, text, detail) => (code === 'INVALID_ARGUMENT' ? `${text}: ${detail}` : text)),
  secretQueryParams: ['token'],
  conditionalReads: false,
  openApi: {
    description: 'Momento-compatible (Authorization: Bearer <JWT>, or the JWT alone, or ?token=)',
    tokenAlternatives: { query: 'token', header: '`Authorization: <JWT>` (without `Bearer`)' },
  },
};
