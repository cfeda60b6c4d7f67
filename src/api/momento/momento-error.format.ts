import type { ErrorFormat } from '../../families/family-profile';

/** Momento's HTTP API answers errors with a plain-text body (`Key Not Found`, `Cache Not Found`, ...). */
export const momentoErrorFormat: ErrorFormat = {
  family: 'momento',
  matches: (path) => /^\/cache(?:[/?]|$)/.test(path),
  render: (_status, _code, message) => ({ contentType: 'text/plain; charset=utf-8', body: message }),
};
