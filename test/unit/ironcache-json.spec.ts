import { parse } from 'lossless-json';
import { isLosslessNumber, parseIronCacheJson } from '../../src/families/ironcache-json';

/**
 * IronCache bodies keep every number's source text. lossless-json alone walks a body a
 * character at a time (a 4 MiB value: 1.5 s of the event loop); parseIronCacheJson decodes long
 * strings natively and must give exactly what lossless-json gives, errors included.
 */
describe('parseIronCacheJson', () => {
  const long = (n: number) => 'x'.repeat(n);
  const same = (text: string) => expect(JSON.stringify(parseIronCacheJson(text))).toBe(JSON.stringify(parse(text)));

  it.each([
    ['a long value with escapes', JSON.stringify({ value: `${long(20_000)}"\\\n\u0001é😀"${long(10)}`, expires_in: 10 })],
    ['numbers beyond 2^53 stay exact', `{"value":${JSON.stringify(long(40_000))},"cas":9007199254740993,"expires_in":1e3}`],
    ['long keys stay keys', `{${JSON.stringify(long(20_000))}:1,"value":${JSON.stringify(long(20_000))}}`],
    ['arrays and nesting', JSON.stringify({ a: [long(20_000), { b: long(300) }, 'short'], value: 'v' })],
    ['a string ending in an escaped backslash', JSON.stringify({ value: `${long(20_000)}\\`, x: `\\"${long(300)}\\\\` })],
    ['a value that looks like a placeholder', JSON.stringify({ value: `\u0000AAAAAAAAAAAA:0${long(20_000)}`, short: '\u0000AAAAAAAAAAAA:0' })],
  ])('%s: the same result as lossless-json', (_name, text) => same(text));

  it('keeps numbers as LosslessNumbers', () => {
    const body = parseIronCacheJson(`{"value":${JSON.stringify(long(20_000))},"cas":9007199254740993}`) as Record<string, unknown>;
    expect(isLosslessNumber(body.cas)).toBe(true);
    expect(String(body.cas)).toBe('9007199254740993');
    expect(body.value).toBe(long(20_000));
  });

  it.each([
    ['a key given twice', `{"value":${JSON.stringify(long(20_000))},"cas":1,"cas":2}`],
    ['an unterminated string', `{"value":"${long(20_000)}`],
    ['a raw control character', `{"value":"${long(20_000)}\u0001"}`],
    ['a bad escape', `{"value":"${long(20_000)}\\q"}`],
    ['trailing garbage', `{"value":${JSON.stringify(long(20_000))}} x`],
  ])('%s: refused as lossless-json refuses it', (_name, text) => {
    expect(() => parse(text)).toThrow();
    expect(() => parseIronCacheJson(text)).toThrow();
  });

  it('a "__proto__" key stays an own property', () => {
    const body = parseIronCacheJson(`{"__proto__":${JSON.stringify(long(20_000))},"value":"v"}`) as Record<string, unknown>;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toBe(long(20_000));
  });
});
