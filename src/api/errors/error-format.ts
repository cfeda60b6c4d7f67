import { ironCacheErrorFormat } from '../ironcache/ironcache-error.format';
import { momentoErrorFormat } from '../momento/momento-error.format';
import { settingsErrorFormat } from '../native/settings-error.format';

/**
 * How one API family writes its errors. The HTTP filter picks the family by the request's
 * path, so unknown routes and unparsable bodies are answered in the caller's dialect too.
 */
export interface ErrorFormat {
  readonly family: string;
  matches(path: string): boolean;
  /** Content type and body for an error. */
  render(status: number, code: string, message: string): { contentType: string; body: string };
}

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
