import { crc32, crc32Portable } from '../../src/journal/crc32';

describe('crc32', () => {
  it('continues a CRC over parts exactly as over their concatenation, empty parts included', () => {
    // LevelDB hands out an empty value as a Buffer over an ArrayBuffer of 0 bytes: Node's
    // zlib.crc32 answered 0 for it instead of the CRC carried in (a backup's checksum broke).
    const parts = [Buffer.from('cache'), Buffer.from(new ArrayBuffer(0)), new Uint8Array(0), Buffer.alloc(0), Buffer.from([0, 255, 1])];
    let chained = 0;
    let portable = 0;
    for (const part of parts) {
      chained = crc32(part, chained);
      portable = crc32Portable(part, portable);
    }
    expect(chained).toBe(crc32(Buffer.concat(parts)));
    expect(portable).toBe(chained);
    expect(crc32(Buffer.from(new ArrayBuffer(0)), 12345)).toBe(12345);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});
