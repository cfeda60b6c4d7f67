import { bearerTokenSource, queryParam } from '../auth/token-sources';
import type { FamilyProfile, Refusal, Rejection } from './family-profile';
import { catalogueWording } from './wording';

/** A Redis error's first word (`ERR`, `WRONGTYPE`, `NOPERM`, ...): such a text is shown as it is. */
const REDIS_PREFIX = /^(?:ERR|WRONGTYPE|NOPERM|NOAUTH|WRONGPASS|EXECABORT|TRYAGAIN|OOM|NOPROTO|BUSY|LOADING|READONLY|MISCONF) /;

/**
 * The text of an Upstash error: Redis's words for a refused command, `ERR <what>` for anything
 * the HTTP layer refuses (a bad body, a body too large), `Unauthorized: <why>` for a token.
 */
export function upstashErrorText(code: string, message: string): string {
  if (code === 'UNAUTHORIZED') return `Unauthorized: ${message}`;
  return REDIS_PREFIX.test(message) ? message : `ERR ${message}`;
}

/**
 * The Upstash-compatible Redis REST API, `/redis` (cache `0`) and `/redis/db/<cache>`: Redis
 * commands as JSON over HTTP, answered `{"result": ...}` or `{"error": "..."}` (src/api/upstash/).
 * The token is `Authorization: Bearer <JWT>` or `?_token=<JWT>` (never logged); a command's
 * refusal is a 400 in Redis's words, as Upstash answers it.
 */
export const upstash: FamilyProfile = {
  id: 'upstash',
  prefix: /^\/redis(?:[/?]|$)/,
  tokens: {
    extract: (request) => queryParam(request, '_token') ?? bearerTokenSource.extract(request),
  },
  errors: {
    render: (_status, code, message) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: upstashErrorText(code, message) }) }),
    schema: {
      contentType: 'application/json',
      component: 'UpstashError',
      schema: { type: 'object', properties: { error: { type: 'string', description: "Redis's words (`ERR ...`, `NOPERM ...`)" } }, required: ['error'] },
      example: { error: "ERR wrong number of arguments for 'get' command" },
    },
  },
  parseJson: (text) => JSON.parse(text),
  word: (refusal: Refusal): Rejection => catalogueWording(refusal),
  secretQueryParams: ['_token'],
  conditionalReads: false,
  openApi: {
    description: 'Upstash-compatible Redis REST API (Authorization: Bearer <JWT>, or ?_token=): the Redis commands of docs/redis.md over HTTP',
    tokenAlternatives: { query: '_token' },
  },
};
