import { parse } from 'lossless-json';
import { exactInteger } from '../../src/families/ironcache-json';

describe('exactInteger: the integer a JSON number text denotes, never through a JS number', () => {
  it.each([
    ['0', 0n],
    ['-0', 0n],
    ['10', 10n],
    ['-3', -3n],
    ['9007199254740993', 9007199254740993n],
    ['9223372036854775807', 9223372036854775807n],
    ['1e3', 1000n],
    ['10.0', 10n],
    ['1.5e1', 15n],
    ['100e-2', 1n],
    ['0.0e5', 0n],
  ])('%s is %s', (text, expected) => {
    expect(exactInteger(text)).toBe(expected);
  });

  it.each(['1.5', '1e-1', '0.1', '12.34e1'])('%s has a fraction: undefined', (text) => {
    expect(exactInteger(text)).toBeUndefined();
  });

  it('a huge exponent is a huge magnitude without building it (beyond any 64-bit range)', () => {
    expect(exactInteger('1e999999999')).toBe(10n ** 40n);
    expect(exactInteger('-1e999999999')).toBe(-(10n ** 40n));
  });

  it('lossless-json hands the parser every number as its source text', () => {
    const body = parse('{"value": 12345678901234567890123, "amount": 9007199254740993}') as Record<string, { value: string }>;
    expect(body.value.value).toBe('12345678901234567890123');
    expect(exactInteger(body.amount.value)).toBe(9007199254740993n);
  });
});
