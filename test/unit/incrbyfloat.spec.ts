import { CacheEvent, DomainErrorCode, OperationResult } from '../../src/domain';
import { addLongDoubles, formatLongDouble, parseLongDouble } from '../../src/domain/redis-float';
import { at, given } from '../support/given-when-then';

const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const stored = (text: string): CacheEvent => ({ ...at(2), type: 'Set', key: 'f', value: Buffer.from(text, 'utf8'), expiresAt: 0 });
const who = { by: 'tester' };

function incrByFloat(text: string | undefined, amount: number): OperationResult {
  const history = text === undefined ? [created] : [created, stored(text)];
  const decision = given(history).when({ ...who, type: 'ApplyOperations', ops: [{ op: 'incrByFloat', key: 'f', amount }] }).decision;
  if (!decision.ok || decision.results === undefined) throw new Error('the command itself was refused');
  return decision.results[0];
}

const valueOf = (result: OperationResult) => (result.ok ? result.value : `error ${result.error.code}`);

/**
 * Each case was run on Redis 7.0.15 (x86-64): `SET f <stored>`, `INCRBYFLOAT f <amount>`;
 * the expected text is its reply. Redis adds in 80-bit long doubles and writes `%.17Lf`
 * with trailing zeros removed; doubles would answer `0.30000000000000004` for 0.1 + 0.2.
 */
const REDIS_7_0_15: Array<[string, number, string]> = [
  ['10.50', 0.1, '10.6'],
  ['0.1', 0.2, '0.3'],
  ['3.0e3', 0, '3000'],
  ['5.0e3', 2000, '7000'],
  ['5.0e3', 200, '5200'],
  ['10.6', -5, '5.6'],
  ['1.1', 2.2, '3.3'],
  ['1e-17', 0, '0.00000000000000001'],
  ['5e-18', 0, '0'],
  ['1.5e-17', 0, '0.00000000000000002'],
  ['-1e-20', 0, '0'],
  ['0.000003814697265625', 0, '0.00000381469726562'],
  ['0x10', 1, '17'],
  ['0x1.8p1', 0.25, '3.25'],
  ['12345678901234567', 1, '12345678901234568'],
  ['123456789012345678901234567890', 0, '123456789012345678899921813504'],
  ['.5', 1, '1.5'],
  ['5.', 1, '6'],
  ['+7', 1, '8'],
  ['-0', 0, '0'],
  ['2.5', -2.5, '0'],
  ['100', -100.5, '-0.5'],
  ['3.0000000000000000001', 0, '3'],
  ['99999999999999999.5', 0, '99999999999999999.5'],
  ['3.6e-4951', 0, '0'],
  [
    '1e300',
    1,
    '1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144',
  ],
];

const REDIS_ERRORS: Array<[string, number, DomainErrorCode]> = [
  ['inf', 1, 'NOT_FINITE'],
  ['-infinity', 1, 'NOT_FINITE'],
  ['1e4932', Infinity, 'NOT_FINITE'],
  [' 3', 1, 'NOT_A_FLOAT'],
  ['3 ', 1, 'NOT_A_FLOAT'],
  ['abc', 1, 'NOT_A_FLOAT'],
  ['nan', 1, 'NOT_A_FLOAT'],
  ['1e', 1, 'NOT_A_FLOAT'],
  ['0x', 1, 'NOT_A_FLOAT'],
  ['0x1p', 1, 'NOT_A_FLOAT'],
  ['1e5000', 1, 'NOT_A_FLOAT'],
  ['1e-5000', 1, 'NOT_A_FLOAT'],
  ['1.2e4932', 0, 'NOT_A_FLOAT'],
  ['1.8e-4951', 0, 'NOT_A_FLOAT'],
  ['', 1, 'NOT_A_FLOAT'],
  ['1_000', 1, 'NOT_A_FLOAT'],
  ['١', 1, 'NOT_A_FLOAT'],
];

describe('INCRBYFLOAT: Redis 7 long double arithmetic and formatting', () => {
  it.each(REDIS_7_0_15)('%s + %s answers %s, as Redis does', (text, amount, expected) => {
    expect(valueOf(incrByFloat(text, amount))).toBe(expected);
  });

  it.each(REDIS_ERRORS)('%j + %s is refused with %s, as Redis refuses it', (text, amount, code) => {
    expect(valueOf(incrByFloat(text, amount))).toBe(`error ${code}`);
  });

  it('writes the largest values in full, never with an exponent (1e4932 has 4933 digits)', () => {
    const result = valueOf(incrByFloat('1e4932', 0)) as string;
    expect(result).toHaveLength(4933);
    expect(result.startsWith('10000000000000000000060189493879638913238377742545331147737850413525330194866087')).toBe(true);
    expect(result.endsWith('1886622720')).toBe(true);
  });

  it('a missing key counts as 0; an amount that is NaN is not a float, an infinite one gives no finite result', () => {
    expect(valueOf(incrByFloat(undefined, 10.5))).toBe('10.5');
    expect(valueOf(incrByFloat(undefined, -0))).toBe('0');
    expect(valueOf(incrByFloat(undefined, NaN))).toBe('error NOT_A_FLOAT');
    expect(valueOf(incrByFloat(undefined, -Infinity))).toBe('error NOT_FINITE');
  });

  it('a value of 5 KiB or more is not read (Redis parses at most MAX_LONG_DOUBLE_CHARS - 1 bytes)', () => {
    expect(valueOf(incrByFloat('1.' + '0'.repeat(5117), 0))).toBe('1');
    expect(valueOf(incrByFloat('1.' + '0'.repeat(5118), 0))).toBe('error NOT_A_FLOAT');
    expect(valueOf(incrByFloat('0.' + '0'.repeat(5116) + '1', 0))).toBe('error NOT_A_FLOAT'); // 1e-5117 underflows
  });

  it('adds as the FPU does: x + (-x) is 0, and ties round to even', () => {
    const x = parseLongDouble(Buffer.from('0.1'))!;
    const minusX = parseLongDouble(Buffer.from('-0.1'))!;
    const sum = addLongDoubles(x, minusX)!;
    expect(sum.finite && formatLongDouble(sum)).toBe('0');
    // 2^64 + 1 does not fit 64 bits: it rounds to 2^64 (even), 2^64 + 3 to 2^64 + 4.
    const two64 = parseLongDouble(Buffer.from('18446744073709551616'))!;
    const one = parseLongDouble(Buffer.from('1'))!;
    const three = parseLongDouble(Buffer.from('3'))!;
    const a = addLongDoubles(two64, one)!;
    const b = addLongDoubles(two64, three)!;
    expect(a.finite && formatLongDouble(a)).toBe('18446744073709551616');
    expect(b.finite && formatLongDouble(b)).toBe('18446744073709551620');
  });
});
