import { globLiteralPrefix, globMatch } from '../../src/redis/engine/glob';

/** The literal start of a Redis glob, which a scan in byte order seeks to (src/api/native/key-scan.ts). */
describe('globLiteralPrefix', () => {
  const prefix = (pattern: string) => globLiteralPrefix(Buffer.from(pattern)).toString();

  it.each([
    ['user:*', 'user:'],
    ['user:?', 'user:'],
    ['user:[ab]', 'user:'],
    ['*', ''],
    ['abc', 'abc'],
    ['a\\*b*', 'a*b'],
    ['a\\?b', 'a?b'],
    ['a\\[b', 'a[b'],
    ['a\\\\b', 'a\\b'],
    ['ab\\', 'ab\\'], // a trailing backslash matches itself
    ['héllo*', 'héllo'],
  ])('%j starts with %j', (pattern, expected) => expect(prefix(pattern)).toBe(expected));

  it('every string the matcher accepts starts with the prefix', () => {
    const alphabet = ['a', 'b', '*', '?', '[', ']', '\\', '-', '^', 'é'];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const text = (max: number) => Array.from({ length: random(max) }, () => alphabet[random(alphabet.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = Buffer.from(text(7));
      const key = Buffer.from(text(7));
      const start = globLiteralPrefix(pattern);
      if (globMatch(pattern, key)) expect(key.subarray(0, start.length).equals(start)).toBe(true);
    }
  });
});
