import type { FamilyProfile, Refusal, Rejection } from './family-profile';
import { native } from './native';
import { catalogueWording } from './wording';

const KINDS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized_client',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

function word(refusal: Refusal): Rejection {
  if (refusal.code === 'CACHE_NOT_FOUND') return { status: 404, code: 'CACHE_NOT_FOUND', message: `cache (name: ${refusal.cacheName ?? ''}) was not found` };
  if (refusal.code === 'INVALID_ARGUMENT') return catalogueWording({ ...refusal, code: 'INVALID_REQUEST' });
  return catalogueWording(refusal);
}

/**
 * Per-cache settings, `/cacheName/{cacheName}/settings`, as in the gateway document: Bearer
 * tokens like the native API, errors as `{"error": "bad_request", "error_description": "..."}`,
 * a missing cache is a 404 that names it and a bad setting is INVALID_REQUEST.
 */
export const settings: FamilyProfile = {
  ...native,
  id: 'settings',
  prefix: /^\/cacheName\/[^/?]+\/settings(?:[/?]|$)/,
  errors: {
    render: (status, code, message) => ({
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ error: KINDS[status] ?? code.toLowerCase(), error_description: message }),
    }),
    schema: {
      contentType: 'application/json',
      component: 'SettingsError',
      schema: { type: 'object', properties: { error: { type: 'string' }, error_description: { type: 'string' } }, required: ['error', 'error_description'] },
      example: { error: 'bad_request', error_description: 'capacity: must be >= 0 (0: unlimited)' },
    },
  },
  word,
  openApi: { ...native.openApi, description: 'per-cache settings' },
};
