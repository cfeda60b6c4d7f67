import { z } from 'zod';
import { ApiError } from '../errors/api-error';

/** `?at=<seq>` or `?asOf=<ISO time>` of a point-in-time read. */
export interface PointQuery {
  readonly at?: unknown;
  readonly asOf?: unknown;
}

/** The query of a read that may name a point in the past (checked further by `parsePoint`). */
export const PointQueryDto = z.object({
  at: z.string().meta({ description: 'a sequence number: the cache as it was after that event', example: '2' }).optional(),
  asOf: z.string().meta({ description: 'an ISO 8601 time: the cache as it was then', example: '2026-11-24T06:00:00Z' }).optional(),
});

export type Point = { readonly kind: 'seq'; readonly seq: number } | { readonly kind: 'time'; readonly time: number };

export function isPointInTime(query: PointQuery | undefined): boolean {
  return query !== undefined && query !== null && (query.at !== undefined || query.asOf !== undefined);
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Validates the query; 400 INVALID_REQUEST naming the field otherwise. */
export function parsePoint(query: PointQuery): Point {
  if (query.at !== undefined && query.asOf !== undefined) throw ApiError.of('INVALID_REQUEST', 'at, asOf: give one of them, not both');
  if (query.at !== undefined) {
    if (typeof query.at !== 'string' || !/^\d{1,15}$/.test(query.at)) throw ApiError.of('INVALID_REQUEST', 'at: must be a sequence number >= 0');
    return { kind: 'seq', seq: Number(query.at) };
  }
  const time = typeof query.asOf === 'string' && ISO.test(query.asOf) ? Date.parse(query.asOf) : NaN;
  if (!Number.isFinite(time)) throw ApiError.of('INVALID_REQUEST', 'asOf: must be an ISO 8601 time, e.g. 2026-01-01T12:00:00Z');
  return { kind: 'time', time };
}

/** Parses `--to` of the CLI or `at`/`asOf` of a task: a sequence number or an ISO time. */
export function parseSeqOrTime(raw: string): Point {
  return /^\d+$/.test(raw) ? parsePoint({ at: raw }) : parsePoint({ asOf: raw });
}

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
