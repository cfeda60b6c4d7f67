import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib and gzip) of a journal record. Node has it
 * natively as `zlib.crc32` since 20.15 / 22.2; on older Node a small table-driven version
 * computes the same value, so data written by either can be read by either.
 */
const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** `previous`: the CRC of the bytes before these, to compute one over several parts. */
export function crc32Portable(bytes: Uint8Array, previous = 0): number {
  let crc = previous ^ -1;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array, previous?: number) => number }).crc32;

// Node's own answers 0 for an empty buffer without a backing store (`Buffer.from(new ArrayBuffer(0))`,
// as LevelDB hands out empty values) whatever `previous` is: the CRC of nothing is `previous`.
export const crc32: (bytes: Uint8Array, previous?: number) => number =
  typeof native === 'function' ? (bytes, previous = 0) => (bytes.byteLength === 0 ? previous >>> 0 : native(bytes, previous)) : crc32Portable;
