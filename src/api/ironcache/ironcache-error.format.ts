import type { ErrorFormat } from '../../families/family-profile';

/**
 * IronCache errors: `{"msg": "..."}`. Matches `/1/projects...` rather than all of `/1/`, so
 * a native cache named "1" (`/1/{key}`) keeps native errors.
 */
export const ironCacheErrorFormat: ErrorFormat = {
  family: 'ironcache',
  matches: (path) => /^\/1\/projects(?:[/?]|$)/.test(path),
  render: (_status, _code, message) => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify({ msg: message }) }),
};
