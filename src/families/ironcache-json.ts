import { randomBytes } from 'node:crypto';
import { LosslessNumber, isLosslessNumber, parse } from 'lossless-json';

/**
 * IronCache bodies are parsed with every JSON number kept as its source text (a
 * `LosslessNumber`, see the IronCache profile, ironcache.ts); these read and parse them.
 */
export { LosslessNumber, isLosslessNumber };

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The integer a JSON number's text denotes, exactly (`10`, `-3`, `1e3`, `10.0`), or undefined
 * when it has a fraction (`1.5`). Never through a JS number: exact beyond 2^53. A magnitude
 * far beyond 64 bits is returned as ±10^40 (enough to be out of any range checked here)
 * instead of building a huge BigInt from an exponent like `1e999999999`.
 */
export function exactInteger(text: string): bigint | undefined {
  const match = NUMBER.exec(text);
  if (match === null) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = (whole + fraction).replace(/^0+/, '');
  let scale = Number(exponent) - fraction.length;
  if (digits === '') return 0n;
  while (scale < 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    scale++;
  }
  if (scale < 0) return undefined;
  const magnitude = digits.length + scale > 40 ? 10n ** 40n : BigInt(digits) * 10n ** BigInt(scale);
  return sign === '-' ? -magnitude : magnitude;
}

/** Bodies shorter than this go to lossless-json as they are. */
const SMALL_BODY = 16 * 1024;
/** String values longer than this are decoded natively (see parseIronCacheJson). */
const LONG_STRING = 256;
const BACKSLASH = 0x5c;

/**
 * An IronCache body, numbers kept as their source text (LosslessNumber), in time linear in its
 * length with a native constant. lossless-json walks its input a character at a time in
 * JavaScript: a 4 MiB value took 1.5 s of the event loop (every org's requests wait). Here the
 * long string values (a value to store) are cut out first, found with `indexOf`, and decoded by
 * `JSON.parse`; lossless-json parses what is left (numbers, keys, short strings), so it still
 * refuses a key given twice; placeholders with a per-call nonce stand in for the long strings
 * and are put back afterwards. Malformed input is refused (SyntaxError) as lossless-json refuses it.
 */
export function parseIronCacheJson(text: string): unknown {
  if (text.length < SMALL_BODY) return parse(text);
  const nonce = `\u0000${randomBytes(9).toString('base64')}:`;
  const long: string[] = [];
  let skeleton = '';
  let copied = 0;
  let at = text.indexOf('"');
  while (at >= 0) {
    const end = closingQuote(text, at);
    if (end < 0) throw new SyntaxError('unterminated string');
    if (end - at > LONG_STRING && !isKey(text, end + 1)) {
      let value: string;
      // A bad escape or a raw control character throws here, in native time (never a slow second pass).
      value = JSON.parse(text.slice(at, end + 1)) as string;
      skeleton += text.slice(copied, at) + JSON.stringify(nonce + long.length);
      long.push(value);
      copied = end + 1;
    }
    at = text.indexOf('"', end + 1);
  }
  if (long.length === 0) return parse(text);
  return restore(parse(skeleton + text.slice(copied)), nonce, long);
}

/** The index of the quote that closes the string opening at `open` (-1: none). */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at >= 0) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}

/** True when the string ending before `after` is an object key (a colon follows it). */
function isKey(text: string, after: number): boolean {
  let at = after;
  while (at < text.length && /\s/.test(text[at])) at++;
  return text[at] === ':';
}

function restore(value: unknown, nonce: string, long: readonly string[]): unknown {
  if (typeof value === 'string') return value.startsWith(nonce) ? long[Number(value.slice(nonce.length))] : value;
  if (Array.isArray(value)) return value.map((item) => restore(item, nonce, long));
  if (value !== null && typeof value === 'object' && !isLosslessNumber(value)) {
    for (const [key, item] of Object.entries(value)) {
      const restored = restore(item, nonce, long);
      // defineProperty: a key named "__proto__" stays a plain property
      if (restored !== item) Object.defineProperty(value, key, { value: restored, enumerable: true, writable: true, configurable: true });
    }
  }
  return value;
}
