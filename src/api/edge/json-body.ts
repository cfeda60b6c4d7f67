import { ApiError } from '../errors/api-error';

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in `text`, counted up to `max + 1` and no
 * further: one pass over the characters that stops at the first level too deep, so a body of
 * a million `[` costs microseconds, not the parser's recursion. Brackets inside strings do
 * not count. It does not validate; JSON.parse does that after.
 */
export function exceedsJsonDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

/**
 * A JSON body parsed behind the depth check, by `parse` (JSON.parse, or the family's own, see
 * src/families/); an empty body is `undefined`. 400 with a stable code otherwise.
 */
export function parseBoundedJson(text: string, maxDepth: number, parse: (text: string) => unknown = JSON.parse): unknown {
  if (text === '') return undefined;
  if (exceedsJsonDepth(text, maxDepth)) {
    throw ApiError.of('JSON_TOO_DEEP', `the request body nests arrays or objects deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`);
  }
  try {
    return parse(text);
  } catch {
    throw ApiError.of('INVALID_JSON', 'the request body is not valid JSON');
  }
}
