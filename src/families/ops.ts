import type { FamilyProfile } from './family-profile';
import { native } from './native';

/**
 * The operational routes: the landing page, health, metrics, the console and the API
 * documentation. They take no JWT (metrics have their own token), so the profile matters for
 * their other answers (a 405 checks a Bearer token first, errors are native). Only their exact
 * paths: `/health/x` is a native key `x` of a cache named "health".
 */
export const ops: FamilyProfile = {
  ...native,
  id: 'ops',
  prefix: /^\/(?:health\/(?:live|ready)|metrics|console(?:\/[^/?]+)?|docs(?:\/json|\/init\.js|\/assets\/[^/?]+)?)?(?:\?|$)/,
  openApi: {
    description: 'documentation, health, metrics, console',
  },
};
