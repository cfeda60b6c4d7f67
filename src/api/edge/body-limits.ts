import { HTTPMethods } from 'fastify';
import { EdgeLimits } from '../../config/config';

/** The largest body a route takes, by how it is sent: JSON, or any other type (raw bytes). */
export interface BodyLimits {
  readonly json: number;
  readonly raw: number;
}

type Kind = 'value-raw' | 'value-json' | 'value-any' | 'batch';

/**
 * Routes that carry values (or many of them); every other route is a control route with
 * small bodies (MAX_CONTROL_BODY_BYTES), whatever its content type.
 */
const VALUE_ROUTES: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['POST /:cacheName/:key', 'value-raw'],
  ['POST /:cacheName/:key/:ttlSeconds', 'value-raw'],
  ['PUT /cache/:cacheName', 'value-raw'],
  ['POST /set', 'value-json'],
  ['PUT /1/projects/:projectId/caches/:cacheName/items/:key', 'value-any'],
  ['POST /batch', 'batch'],
  ['DELETE /batch', 'batch'],
  ['POST /batch/get', 'batch'],
]);

export function bodyLimitsFor(method: HTTPMethods | string, url: string | undefined, limits: EdgeLimits, maxValueBytes: number): BodyLimits {
  const control = limits.maxControlBodyBytes;
  const path = url !== undefined && url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url;
  switch (VALUE_ROUTES.get(`${method} ${path}`)) {
    case 'value-raw':
      return { json: control, raw: maxValueBytes };
    case 'value-json':
      return { json: limits.maxValueJsonBytes, raw: control };
    case 'value-any':
      return { json: limits.maxValueJsonBytes, raw: limits.maxValueJsonBytes };
    case 'batch':
      return { json: limits.maxBatchBodyBytes, raw: control };
    default:
      return { json: control, raw: control };
  }
}

export const isJsonContentType = (contentType: string | undefined): boolean => /^application\/json\b/i.test(contentType ?? '');
