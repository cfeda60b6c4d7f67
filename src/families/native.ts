import { bearerTokenSource } from '../auth/token-sources';
import type { ErrorFormat, FamilyProfile } from './family-profile';
import { catalogueWording } from './wording';

/** The native error body: `{"code": "KEY_NOT_FOUND", "message": "..."}` (history, tasks and the operational routes use it too). */
export const nativeErrors: ErrorFormat = {
  render: (_status, code, message) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify({ code, message }) }),
  schema: {
    contentType: 'application/json',
    component: 'NativeError',
    schema: { type: 'object', properties: { code: { type: 'string', description: 'stable; messages may change, codes may not' }, message: { type: 'string' } }, required: ['code', 'message'] },
    example: { code: 'KEY_NOT_FOUND', message: 'key does not exist' },
  },
};

/**
 * The native (Akka-Cache) API: Bearer JWTs, native errors worded by the catalogue, JSON.parse
 * (fast, for its large base64 bodies), ETags on the reads of a cache. It owns every path no
 * other family claims (`/:cacheName/:key`, `/cacheName/...`, `/set`, `/batch`, ...).
 */
export const native: FamilyProfile = {
  id: 'native',
  prefix: /^\//,
  tokens: bearerTokenSource,
  errors: nativeErrors,
  parseJson: (text) => JSON.parse(text),
  word: catalogueWording,
  secretQueryParams: [],
  conditionalReads: true,
  openApi: {
    description: 'the Akka-Cache REST API (Authorization: Bearer <JWT>)',
  },
};
