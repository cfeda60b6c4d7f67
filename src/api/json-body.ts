/**
 * How a JSON request body is parsed, chosen by path like the error formats: `JSON.parse`
 * (fast, native) unless an API family registers its own. IronCache does, so that numbers
 * keep their exact text (see `ironcache-json.ts`).
 */
export interface JsonBodyParser {
  readonly family: string;
  matches(path: string): boolean;
  parse(text: string): unknown;
}

export const JSON_BODY_PARSERS: JsonBodyParser[] = [];

export function parseJsonBody(path: string, text: string): unknown {
  for (const parser of JSON_BODY_PARSERS) if (parser.matches(path)) return parser.parse(text);
  return JSON.parse(text);
}
