import type { FamilyProfile } from './family-profile';
import { native } from './native';

/** A cache's events, `/cacheName/{cacheName}/events` (paged) and `.../events/stream` (SSE): the native API's tokens and errors. */
export const history: FamilyProfile = {
  ...native,
  id: 'history',
  prefix: /^\/cacheName\/[^/?]+\/events(?:[/?]|$)/,
  openApi: { ...native.openApi, description: 'events of a cache, paged and as Server-Sent Events' },
};
