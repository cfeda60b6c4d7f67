/**
 * Redis's INCRBYFLOAT arithmetic, exactly as a Redis server on x86-64 does it, in integers.
 *
 * Redis reads the stored value and the increment as C `long double`s (`strtold`: the x87
 * 80-bit format, a 64-bit significand), adds them in that precision, and writes the sum
 * "human friendly": `%.17Lf` (fixed, 17 decimals, never an exponent), then trailing zeros
 * and a trailing point removed, and `-0` written `0` (util.c `ld2string`, LD_STR_HUMAN).
 * Doubles (53 bits) would round differently and print `0.30000000000000004` where Redis
 * prints `0.3`; so each step is done here on exact BigInt rationals, rounded as the x87 FPU
 * rounds (to nearest, ties to even, 64 significant bits, its exponent range) and printed as
 * glibc prints (exact decimal expansion, ties to even). Pure: no I/O, no clock.
 */

/** A finite value `(-1)^negative × mantissa × 2^exponent` with `mantissa < 2^64`, or an infinity. */
export type LongDouble =
  | { readonly finite: true; readonly negative: boolean; readonly mantissa: bigint; readonly exponent: number }
  | { readonly finite: false; readonly negative: boolean };

const SIGNIFICAND_BITS = 64;
/** The quantum of the smallest (subnormal) values: 2^-16445. */
const MIN_EXPONENT = -16445;
/** Values at or above 2^16384 overflow to infinity. */
const MAX_BIT_LENGTH = 16384;
/** Redis refuses a value this long or longer before parsing it (`MAX_LONG_DOUBLE_CHARS`). */
const MAX_TEXT_LENGTH = 5 * 1024;
const FRACTION_DIGITS = 17;

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

const ZERO = (negative: boolean): LongDouble => ({ finite: true, negative, mantissa: 0n, exponent: 0 });
const INFINITE = (negative: boolean): LongDouble => ({ finite: false, negative });

const bitLength = (n: bigint): number => (n === 0n ? 0 : n.toString(2).length);

/**
 * `value` as Redis's `string2ld` reads it: all of it must be a number as `strtold` takes it
 * (decimal or hexadecimal, optional exponent, `inf`/`infinity`), no leading or trailing
 * space, not NaN, not beyond the long double range (an underflow to zero is refused too).
 * Undefined when it is not such a number.
 */
export function parseLongDouble(value: Uint8Array): LongDouble | undefined {
  if (value.byteLength === 0 || value.byteLength >= MAX_TEXT_LENGTH) return undefined;
  let text = '';
  for (let i = 0; i < value.byteLength; i++) text += String.fromCharCode(value[i]); // latin1: anything not ASCII fails the patterns
  return parseText(text);
}

function parseText(text: string): LongDouble | undefined {
  const infinity = INFINITY.exec(text);
  if (infinity !== null) return INFINITE(infinity[1] === '-');
  const decimal = DECIMAL.exec(text);
  if (decimal !== null) {
    const [, sign, whole, fraction = '', onlyFraction, exponentText] = decimal;
    const digits = (whole ?? '') + (whole !== undefined ? fraction : onlyFraction);
    return fromDecimal(sign === '-', digits, exponentOf(exponentText) - (whole !== undefined ? fraction.length : onlyFraction.length));
  }
  const hex = HEX.exec(text);
  if (hex !== null) {
    const [, sign, whole, fraction = '', onlyFraction, exponentText] = hex;
    const digits = (whole ?? '') + (whole !== undefined ? fraction : onlyFraction);
    return fromBinary(sign === '-', BigInt('0x' + digits), exponentOf(exponentText) - 4 * (whole !== undefined ? fraction.length : onlyFraction.length));
  }
  return undefined;
}

/** An exponent's text as a number, saturated far beyond any that could matter. */
function exponentOf(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text);
  return Math.max(-1e9, Math.min(1e9, n));
}

/** `digits × 10^exponent`, rounded to a long double. */
function fromDecimal(negative: boolean, digits: string, exponent: number): LongDouble | undefined {
  const significant = digits.replace(/^0+/, '');
  if (significant === '') return ZERO(negative);
  const magnitude = significant.length + exponent; // the value is below 10^magnitude and at least 10^(magnitude - 1)
  if (magnitude > 4940) return undefined; // beyond ~1.19e4932
  if (magnitude < -4960) return undefined; // below half the smallest subnormal (~3.6e-4951): underflows to zero
  const n = BigInt(significant);
  return exponent >= 0 ? rounded(negative, n * 10n ** BigInt(exponent), 1n, 0) : rounded(negative, n, 10n ** BigInt(-exponent), 0);
}

/** `mantissa × 2^exponent`, rounded to a long double. */
function fromBinary(negative: boolean, mantissa: bigint, exponent: number): LongDouble | undefined {
  if (mantissa === 0n) return ZERO(negative);
  const top = bitLength(mantissa) + exponent;
  if (top > MAX_BIT_LENGTH + 1) return undefined;
  if (top < MIN_EXPONENT - 1) return undefined;
  return rounded(negative, mantissa, 1n, exponent);
}

/**
 * `p / q × 2^b` (p > 0) rounded to nearest, ties to even, to 64 significant bits (fewer
 * for subnormals). Undefined when it overflows or underflows to zero (`strtold`'s ERANGE,
 * which Redis refuses).
 */
function rounded(negative: boolean, p: bigint, q: bigint, b: number): LongDouble | undefined {
  const result = roundExact(negative, p, q, b);
  return result.finite && result.mantissa !== 0n ? result : undefined;
}

function roundExact(negative: boolean, p: bigint, q: bigint, b: number): LongDouble {
  // The mantissa m = p / q × 2^(b - e) is wanted in [2^63, 2^64); this e is right or one off.
  let e = bitLength(p) - bitLength(q) + b - SIGNIFICAND_BITS;
  const quotient = (exponent: number): [bigint, bigint] => {
    const shift = b - exponent;
    return shift >= 0 ? [p << BigInt(shift), q] : [p, q << BigInt(-shift)];
  };
  let [num, den] = quotient(e);
  if (num / den >= 1n << 64n) [num, den] = quotient(++e);
  else if (num / den < 1n << 63n) [num, den] = quotient(--e);
  if (e < MIN_EXPONENT) [num, den] = quotient((e = MIN_EXPONENT));
  let mantissa = roundHalfEven(num, den);
  if (mantissa === 1n << 64n) {
    mantissa = 1n << 63n;
    e += 1;
  }
  if (mantissa !== 0n && bitLength(mantissa) + e > MAX_BIT_LENGTH) return INFINITE(negative);
  return { finite: true, negative, mantissa, exponent: e };
}

function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = (num - q * den) * 2n;
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

/** A JS number as the decimal text that round-trips it (what a client typed, for any number of up to 15 digits), read as a long double. */
export function longDoubleOfNumber(n: number): LongDouble | undefined {
  if (Number.isNaN(n)) return undefined;
  if (!Number.isFinite(n)) return INFINITE(n < 0);
  return parseText(Object.is(n, -0) ? '-0' : String(n));
}

/** `a + b` as the x87 FPU adds two long doubles (an infinity minus itself is NaN: undefined). */
export function addLongDoubles(a: LongDouble, b: LongDouble): LongDouble | undefined {
  if (!a.finite || !b.finite) {
    if (!a.finite && !b.finite && a.negative !== b.negative) return undefined;
    return !a.finite ? a : b;
  }
  const exponent = Math.min(a.exponent, b.exponent);
  const signed = (x: typeof a) => (x.negative ? -x.mantissa : x.mantissa) << BigInt(x.exponent - exponent);
  const sum = signed(a) + signed(b);
  if (sum === 0n) return ZERO(a.negative && b.negative); // x + (-x) is +0 when rounding to nearest
  return roundExact(sum < 0n, sum < 0n ? -sum : sum, 1n, exponent);
}

/** A finite long double as Redis writes INCRBYFLOAT's result: `%.17Lf`, trailing zeros and point removed, `-0` as `0`. */
export function formatLongDouble(value: LongDouble & { finite: true }): string {
  const { mantissa, exponent } = value;
  const scale = 10n ** BigInt(FRACTION_DIGITS);
  const scaled = exponent >= 0 ? (mantissa << BigInt(exponent)) * scale : roundHalfEven(mantissa * scale, 1n << BigInt(-exponent));
  const digits = scaled.toString().padStart(FRACTION_DIGITS + 1, '0');
  const whole = digits.slice(0, -FRACTION_DIGITS);
  const fraction = digits.slice(-FRACTION_DIGITS).replace(/0+$/, '');
  const text = (value.negative ? '-' : '') + whole + (fraction === '' ? '' : '.' + fraction);
  return text === '-0' ? '0' : text;
}
