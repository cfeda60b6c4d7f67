import { EdgeLimits } from '../../config/config';
import { RouteContract } from '../contract/route-contract';

/** The largest body a route takes, by how it is sent: JSON, or any other type (raw bytes). */
export interface BodyLimits {
  readonly json: number;
  readonly raw: number;
}

/**
 * The limits of a route, from the body size its contract declares (`body.size`): routes that
 * carry values (or many of them) say so; every other route, and a path without a contract (a
 * 405, a 404), is a control route with small bodies (MAX_CONTROL_BODY_BYTES), whatever its
 * content type.
 */
export function bodyLimitsFor(contract: RouteContract | undefined, limits: EdgeLimits, maxValueBytes: number): BodyLimits {
  const control = limits.maxControlBodyBytes;
  switch (contract?.body?.size) {
    case 'value-raw':
      return { json: control, raw: maxValueBytes };
    case 'value-json':
      return { json: limits.maxValueJsonBytes, raw: control };
    case 'value-any':
      // A value as a JSON string (IronCache): what a valid request can be is the value's bytes as
      // sent plus room for the other fields, not base64's inflation; anything larger is refused
      // before it is read, let alone parsed.
      return { json: maxValueBytes + control, raw: maxValueBytes + control };
    case 'batch':
      return { json: limits.maxBatchBodyBytes, raw: control };
    case 'pipeline':
      // Upstash's clients send JSON with any content type (curl -d: form-encoded): either way.
      return { json: limits.maxPipelineBytes, raw: limits.maxPipelineBytes };
    default:
      return { json: control, raw: control };
  }
}

export const isJsonContentType = (contentType: string | undefined): boolean => /^application\/json\b/i.test(contentType ?? '');
