import type { ErrorFormat } from '../../families/family-profile';
import { ironCacheErrorFormat } from '../ironcache/ironcache-error.format';
import { momentoErrorFormat } from '../momento/momento-error.format';
import { settingsErrorFormat } from '../native/settings-error.format';

/** The native API: `{"code": "KEY_NOT_FOUND", "message": "..."}`. */
export const nativeErrorFormat: ErrorFormat = {
  family: 'native',
  matches: () => true,
  render: (_status, code, message) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify({ code, message }) }),
};

/**
 * A fixed list, chosen by route prefix and tried in order; the native format is the
 * fallback (history and tasks use it too). The OpenAPI document describes every route's
 * errors with the format this picks for its path.
 */
export const ERROR_FORMATS: readonly ErrorFormat[] = [ironCacheErrorFormat, momentoErrorFormat, settingsErrorFormat];

export function errorFormatFor(path: string): ErrorFormat {
  return ERROR_FORMATS.find((format) => format.matches(path)) ?? nativeErrorFormat;
}

export type { ErrorFormat };
