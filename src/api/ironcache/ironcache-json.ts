import { LosslessNumber, isLosslessNumber } from 'lossless-json';

/**
 * IronCache bodies are parsed with every JSON number kept as its source text (a
 * `LosslessNumber`, see the IronCache profile, src/families/ironcache.ts); these read them.
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
