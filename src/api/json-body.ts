import type { JsonBodyParser } from '../families/family-profile';
import { ironCacheJsonParser } from './ironcache/ironcache-json';

/**
 * How a JSON request body is parsed, chosen by path like the error formats: `JSON.parse`
 * (fast, native) unless the path belongs to a family with its own parser. IronCache has
 * one, so that numbers keep their exact text (see `ironcache-json.ts`).
 */
/** A fixed list, tried in order. */
const JSON_BODY_PARSERS: readonly JsonBodyParser[] = [ironCacheJsonParser];

export function parseJsonBody(path: string, text: string): unknown {
  for (const parser of JSON_BODY_PARSERS) if (parser.matches(path)) return parser.parse(text);
  return JSON.parse(text);
}
