import type { FastifyRequest } from 'fastify';
import { FamilyProfile, familyOf, profileOf } from '../../families';
import { contractOf } from '../contract/route-contract';
import { routeConfig } from './route-config';

declare module 'fastify' {
  interface FastifyRequest {
    /** `familyOfRequest(request)`'s memo (decorated by HttpEdge). */
    seenFamily: FamilyProfile | null;
  }
}

/**
 * The API family of a request, looked up once per request (the edge's token source and JSON
 * parser, the ETag hook, the error filter each ask): the family its route's contract names.
 * Only a request no contract serves (a 404, a 405) is placed by its path, percent-decoded
 * first: the router decodes before it matches, so `/%31/projects/...` is IronCache's path as
 * much as `/1/projects/...` is, and must meet IronCache's token and project checks.
 */
export function familyOfRequest(request: FastifyRequest): FamilyProfile {
  return (request.seenFamily ??= familyOfRoute(request));
}

function familyOfRoute(request: FastifyRequest): FamilyProfile {
  const contract = contractOf(routeConfig(request));
  return contract !== undefined ? profileOf(contract.family) : familyOf(decodedPath(request.url));
}

function decodedPath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  try {
    return decodeURIComponent(path) + (query === -1 ? '' : url.slice(query));
  } catch {
    return url; // malformed escapes: the router refuses the request anyway
  }
}
