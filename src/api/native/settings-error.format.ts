import type { ErrorFormat } from '../../families/family-profile';

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

/** Cache settings errors, as in the gateway document: `{"error": "bad_request", "error_description": "..."}`. */
export const settingsErrorFormat: ErrorFormat = {
  family: 'settings',
  matches: (path) => /^\/cacheName\/[^/?]+\/settings(?:[?/]|$)/.test(path),
  render: (status, code, message) => ({
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ error: KINDS[status] ?? code.toLowerCase(), error_description: message }),
  }),
};
