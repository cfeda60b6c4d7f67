import { CataloguedError } from './error-catalogue';

/** A point in a cache's past as a client names it: `at` a sequence number or `asOf` an ISO 8601 time. */
export interface PointQuery {
  readonly at?: unknown;
  readonly asOf?: unknown;
}

export type Point = { readonly kind: 'seq'; readonly seq: number } | { readonly kind: 'time'; readonly time: number };

export function isPointInTime(query: PointQuery | undefined): boolean {
  return query !== undefined && query !== null && (query.at !== undefined || query.asOf !== undefined);
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Validates the query; INVALID_REQUEST naming the field otherwise. */
export function parsePoint(query: PointQuery): Point {
  if (query.at !== undefined && query.asOf !== undefined) throw new CataloguedError('INVALID_REQUEST', 'at, asOf: give one of them, not both');
  if (query.at !== undefined) {
    if (typeof query.at !== 'string' || !/^\d{1,15}$/.test(query.at)) throw new CataloguedError('INVALID_REQUEST', 'at: must be a sequence number >= 0');
    return { kind: 'seq', seq: Number(query.at) };
  }
  const time = typeof query.asOf === 'string' && ISO.test(query.asOf) ? Date.parse(query.asOf) : NaN;
  if (!Number.isFinite(time)) throw new CataloguedError('INVALID_REQUEST', 'asOf: must be an ISO 8601 time, e.g. 2026-01-01T12:00:00Z');
  return { kind: 'time', time };
}

/** Parses `--to` of the CLI or `at`/`asOf` of a task: a sequence number or an ISO time. */
export function parseSeqOrTime(raw: string): Point {
  return /^\d+$/.test(raw) ? parsePoint({ at: raw }) : parsePoint({ asOf: raw });
}
