import { ForbiddenProjectError, pathParam, queryParam } from '../auth/token-sources';
import { parseIronCacheJson } from './ironcache-json';
import type { FamilyProfile } from './family-profile';
import { tableWording } from './wording';

/** Status and text of each domain rejection, in IronCache's terms. */
const IRON_WORDING = {
  CACHE_NOT_FOUND: [404, 'Cache not found.'],
  KEY_NOT_FOUND: [404, 'Key not found.'],
  QUOTA_EXCEEDED: [403, 'Project over its storage quota.'],
  VALUE_TOO_LARGE: [400, 'Value too large for this cache.'],
  INVALID_ARGUMENT: [400, 'Invalid request.'],
  KEY_EXISTS: [409, 'Item already exists (add only stores new items); nothing stored.'],
  CAS_MISMATCH: [409, 'Item was changed since (cas does not match); nothing stored.'],
  NOT_A_NUMBER: [400, 'Value is not an integer; cannot increment.'],
  NUMBER_OUT_OF_RANGE: [400, 'Number out of the 64-bit signed integer range.'],
  NOT_A_FLOAT: [400, 'Value is not a valid float.'],
  NOT_FINITE: [400, 'The result would not be a finite number; nothing stored.'],
  EMPTY_VALUE_REJECTED: [400, 'This cache does not store empty values.'],
  CACHE_LIMIT_REACHED: [403, 'Project over its cache limit.'],
  TOO_MANY_EVENTS: [409, 'The command would change too many keys at once.'],
} as const;

/**
 * The IronCache-compatible API, `/1/projects/{projectId}/caches/...` (and only that: a native
 * cache named "1" keeps `/1/{key}`). Tokens as `Authorization: OAuth|Bearer <token>` or
 * `?oauth=`; the project id in the path must be the token's org. Errors are `{"msg": "..."}`.
 * Bodies are parsed with every JSON number kept as its source text (a `LosslessNumber`):
 * `JSON.parse` turns `9007199254740993` into 9007199254740992 before any code sees it, and
 * Node 20 has no reviver access to the source text. `lossless-json` refuses a key given twice
 * with different values (400 INVALID_JSON), where `JSON.parse` keeps the last. A body's long
 * string values (a value to store, up to MAX_VALUE_BYTES) are decoded natively all the same
 * (parseIronCacheJson): lossless-json alone took 1.5 s of the event loop for a 4 MiB value.
 */
export const ironcache: FamilyProfile = {
  id: 'ironcache',
  prefix: /^\/1\/projects(?:[/?]|$)/,
  tokens: {
    extract: (request) => {
      const header = request.headers.authorization;
      if (header !== undefined) {
        const match = /^(?:OAuth|Bearer)\s+(\S+)\s*$/i.exec(header);
        if (match) return match[1];
      }
      return queryParam(request, 'oauth');
    },
    authorize: (principal, request) => {
      const projectId = pathParam(request, 'projectId');
      if (projectId !== undefined && projectId !== principal.org) throw new ForbiddenProjectError();
    },
  },
  errors: {
    render: (_status, _code, message) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify({ msg: message }) }),
    schema: {
      contentType: 'application/json',
      component: 'IronCacheError',
      schema: { type: 'object', properties: { msg: { type: 'string' } }, required: ['msg'] },
      example: { msg: 'Key not found.' },
    },
  },
  parseJson: parseIronCacheJson,
  // The domain's detail is shown for a bad argument and an overflow; the other texts are IronCache's own.
  word: tableWording(IRON_WORDING, (code, text, detail) =>
    code === 'NUMBER_OUT_OF_RANGE' ? `Number out of range: ${detail}.` : code === 'INVALID_ARGUMENT' ? `${text} ${detail}` : text,
  ),
  secretQueryParams: ['oauth'],
  conditionalReads: false,
  openApi: {
    description: 'IronCache-compatible (Authorization: Bearer <JWT>, or OAuth <JWT>, or ?oauth=)',
    tokenAlternatives: { query: 'oauth', header: '`Authorization: OAuth <JWT>`' },
    sharedErrors: { 403: { description: "another project than the token's org", codes: ['FORBIDDEN'] } },
  },
};
