import type { FamilyProfile } from './family-profile';
import { native } from './native';

/** Background tasks and the versioned cache listing, `/api/v1/cache...`: the native API's tokens and errors. */
export const tasks: FamilyProfile = {
  ...native,
  id: 'tasks',
  prefix: /^\/api\/v1\/cache(?:[/?]|$)/,
  openApi: { ...native.openApi, description: 'background tasks and the versioned cache listing' },
};
