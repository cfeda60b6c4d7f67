import type { FamilyProfile } from './family-profile';
import { history } from './history';
import { ironcache } from './ironcache';
import { momento } from './momento';
import { native } from './native';
import { ops } from './ops';
import { settings } from './settings';
import { tasks } from './tasks';
import { upstash } from './upstash';

/**
 * Every HTTP API family, registered once, by the name its route contracts declare (and its
 * tag in the OpenAPI document, in this order). A new family is its profile's file, one line
 * here, and its routes.
 */
export const FAMILIES = {
  native,
  settings,
  history,
  tasks,
  ironcache,
  momento,
  upstash,
  operations: ops,
} as const satisfies Record<string, FamilyProfile>;

/** The family a route contract names (`family: 'ironcache'`). */
export type RouteFamily = keyof typeof FAMILIES;

const PREFIXED: readonly FamilyProfile[] = Object.values(FAMILIES).filter((profile) => profile !== native);

/**
 * The family a request path belongs to (the query string may follow): the one whose prefix
 * matches, the native family otherwise. The prefixes do not overlap (a unit test holds them
 * to it), so the order they are tried in does not matter.
 */
export function familyOf(path: string): FamilyProfile {
  for (const profile of PREFIXED) if (profile.prefix.test(path)) return profile;
  return native;
}

/** The profile of a route contract's family. */
export function profileOf(family: RouteFamily): FamilyProfile {
  return FAMILIES[family];
}

/** Every query parameter some family carries credentials in: no request log shows their values, whatever the path. */
export const SECRET_QUERY_PARAMS: readonly string[] = [...new Set(Object.values(FAMILIES).flatMap((profile) => profile.secretQueryParams))];

export type { ErrorFormat, FamilyProfile, Refusal, Rejection, SharedError } from './family-profile';
