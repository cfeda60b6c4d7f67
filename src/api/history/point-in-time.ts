import { z } from 'zod';
// Points are the core's (src/core/point.ts); the query's schema and the ETags are HTTP's.
export { Point, PointQuery, isPointInTime, parsePoint, parseSeqOrTime } from '../../core/point';

/** The query of a read that may name a point in the past (checked further by `parsePoint`). */
export const PointQueryDto = z.object({
  at: z.string().meta({ description: 'a sequence number: the cache as it was after that event', example: '2' }).optional(),
  asOf: z.string().meta({ description: 'an ISO 8601 time: the cache as it was then', example: '2026-11-24T06:00:00Z' }).optional(),
});

/** ETag of a cache read: derived from the cache's sequence number. */
export const etagOf = (seq: number): string => `"v${seq}"`;
/** ETag of a point-in-time read (its content never changes). */
export const pointEtagOf = (seq: number): string => `"at${seq}"`;

/**
 * True when an `If-None-Match` header lists `etag` (or `*`, unless `wildcard` is false); weak
 * comparison. `*` matches only a resource that has a current representation (RFC 9110 13.1.2):
 * pass `wildcard: false` where that is not known yet, and judge `*` by the answer (see
 * ConditionalGetHook).
 */
export function matchesIfNoneMatch(header: string | string[] | undefined, etag: string, wildcard = true): boolean {
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatchTags(header).some((tag) => (wildcard && tag === '*') || tag === bare);
}

/** True when an `If-None-Match` header is (or lists) `*`. */
export function namesAnyTag(header: string | string[] | undefined): boolean {
  return header !== undefined && ifNoneMatchTags(header).includes('*');
}

function ifNoneMatchTags(header: string | string[]): string[] {
  return (Array.isArray(header) ? header.join(',') : header).split(',').map((tag) => tag.trim().replace(/^W\//, ''));
}
