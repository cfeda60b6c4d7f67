import type { FastifyRequest } from 'fastify';
import { FamilyProfile, familyOf } from '../../families';

declare module 'fastify' {
  interface FastifyRequest {
    /** `familyOfRequest(request)`'s memo (decorated by HttpEdge). */
    seenFamily: FamilyProfile | null;
  }
}

/**
 * The API family of the request's path, looked up once per request: the edge (token, JSON
 * parser), the ETag hook and the error filter each ask.
 */
export function familyOfRequest(request: FastifyRequest): FamilyProfile {
  return (request.seenFamily ??= familyOf(request.url));
}
