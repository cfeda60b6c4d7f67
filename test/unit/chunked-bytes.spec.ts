import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { ChunkedBytes } from '../../src/journal/chunked-bytes';
import { crc32, crc32Portable } from '../../src/journal/crc32';

const split = (whole: Buffer, sizes: number[]) => {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < whole.length; i++) {
    const size = sizes[i % sizes.length];
    parts.push(whole.subarray(at, at + size));
    at += size;
  }
  return parts;
};

describe('ChunkedBytes', () => {
  it('reads any range, copies any span and checksums any tail the same as the whole buffer would', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 10 }), fc.nat(), fc.nat(), (bytes, sizes, a, b) => {
        const whole = Buffer.from(bytes);
        const chunked = new ChunkedBytes(split(whole, sizes.map((s) => s || 1)).concat([Buffer.alloc(0)]));
        expect(chunked.length).toBe(whole.length);
        const from = a % whole.length;
        const to = from + (b % (whole.length - from + 1));
        expect(chunked.range(from, to).equals(whole.subarray(from, to))).toBe(true);
        const target = Buffer.alloc(to - from);
        chunked.copyTo(target, from);
        expect(target.equals(whole.subarray(from, to))).toBe(true);
        expect(Buffer.concat(chunked.viewsFrom(from)).equals(whole.subarray(from))).toBe(true);
        expect(chunked.crc32From(from)).toBe(crc32(whole.subarray(from)));
      }),
      { numRuns: 300, seed: 5 },
    );
    const chunked = new ChunkedBytes([Buffer.from('abc')]);
    expect(() => chunked.range(2, 5)).toThrow(RangeError);
    expect(() => chunked.copyTo(Buffer.alloc(2), 2)).toThrow(RangeError);
  });

  it('the portable CRC-32 equals zlib, in one piece and continued over parts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (first, second) => {
        const whole = Buffer.concat([first, second]);
        expect(crc32Portable(whole)).toBe(zlibCrc32(whole));
        expect(crc32Portable(second, crc32Portable(first))).toBe(zlibCrc32(whole));
      }),
      { numRuns: 200, seed: 6 },
    );
  });
});
