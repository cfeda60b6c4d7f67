import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { CacheState, Entry } from '../../src/domain';
import { CompactEntryMap } from '../../src/domain/compact-entry-map';
import { CodecError, decodeState, encodeState } from '../../src/journal/codec';

const settings = { capacity: 10, ttlSeconds: 60, maxValueBytes: 0, cacheNullValue: false };
const stateOf = (entries: CompactEntryMap | Map<string, Entry>): CacheState => {
  let bytes = 0;
  for (const [, entry] of entries.entries()) bytes += entry.value.byteLength;
  return { status: 'live', description: 'a cache', version: 9, bytes, entries, settings };
};
const asRows = (state: CacheState) => [...state.entries.entries()].map(([key, e]) => [key, Buffer.from(e.value).toString('hex'), e.expiresAt, e.version]);

/** Keys of every width UTF-8 has (1 to 4 bytes per code point), values small, empty and past the slab threshold. */
const key = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('ключ', '鍵', '🔑🗝', 'a'.repeat(300)));
const value = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(65_536, 65_537, 200_000).map((n) => new Uint8Array(n).fill(n % 251)) },
);
const entries = fc.array(fc.tuple(key, value, fc.constantFrom(0, 1.9e12, 2 ** 45), fc.integer({ min: 1, max: 2 ** 40 })), { maxLength: 60 });

describe('snapshot codec', () => {
  it('layout 3 gives back every entry, byte for byte, in recency order, from a compact map or a plain Map', () => {
    fc.assert(
      fc.property(entries, fc.boolean(), (rows, compact) => {
        const map = compact ? new CompactEntryMap() : new Map<string, Entry>();
        for (const [k, v, expiresAt, version] of rows) map.set(k, { value: v, expiresAt, version });
        const state = stateOf(map);
        const encoded = encodeState(state);
        expect(encoded[1]).toBe(3);
        const restored = decodeState(encoded);
        expect(asRows(restored)).toEqual(asRows(state));
        expect({ ...restored, entries: undefined }).toEqual({ ...state, entries: undefined });
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  it('reads layout 3 from its stored chunks in place, wherever the cuts fall (values across two chunks included)', () => {
    fc.assert(
      fc.property(entries, fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 30 }), (rows, cutSizes) => {
        const map = new CompactEntryMap();
        for (const [k, v, expiresAt, version] of rows) map.set(k, { value: v, expiresAt, version });
        const state = stateOf(map);
        const encoded = encodeState(state);
        const parts: Buffer[] = [];
        for (let at = 0, i = 0; at < encoded.length; i++) {
          const size = cutSizes[i % cutSizes.length];
          parts.push(Buffer.from(encoded.subarray(at, at + size))); // own buffers, as LevelDB hands them out
          at += size;
        }
        const restored = decodeState(parts);
        expect(asRows(restored)).toEqual(asRows(state));
        // The loaded values are views of the chunks: changing the cache never writes into them.
        const before = parts.map((part) => Buffer.from(part));
        const loaded = restored.entries as CompactEntryMap;
        for (const [k] of rows.slice(0, 5)) {
          loaded.set(k, { value: Buffer.alloc(30, 1), expiresAt: 0, version: 1 });
          loaded.set(`${k}+`, { value: Buffer.alloc(10, 2), expiresAt: 0, version: 1 });
        }
        parts.forEach((part, i) => expect(part.equals(before[i])).toBe(true));
      }),
      { numRuns: 150, seed: 13 },
    );
  });

  it('a map loaded from a snapshot keeps working like a Map: more writes, deletes, touches and slab compaction', () => {
    fc.assert(
      fc.property(entries, fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(0, 10, 300_000), fc.boolean()), { maxLength: 80 }), (rows, ops) => {
        const source = new CompactEntryMap();
        const model = new Map<string, Entry>();
        for (const [k, v, expiresAt, version] of rows) {
          source.set(k, { value: v, expiresAt, version });
          model.set(k, { value: v, expiresAt, version });
        }
        const loaded = decodeState(encodeState(stateOf(source))).entries as CompactEntryMap;
        ops.forEach(([n, size, remove], version) => {
          const k = `k${n}`;
          if (remove) expect(loaded.delete(k)).toBe(model.delete(k));
          else {
            const entry = { value: new Uint8Array(size).fill(version % 256), expiresAt: 0, version };
            loaded.set(k, entry);
            model.set(k, entry);
          }
          if (version % 7 === 0 && model.size > 0) {
            const first = model.keys().next().value!;
            const entry = model.get(first)!;
            model.delete(first);
            model.set(first, entry);
            expect(loaded.touch(first)).toBe(true);
          }
        });
        expect([...loaded.entries()].map(([k, e]) => [k, Buffer.from(e.value).toString('hex'), e.version])).toEqual(
          [...model.entries()].map(([k, e]) => [k, Buffer.from(e.value).toString('hex'), e.version]),
        );
      }),
      { numRuns: 60, seed: 12 },
    );
  });

  it('still reads layout 2 (written before layout 3)', () => {
    // Written by the layout-2 encoder: keys "a", "ключ" (expiring) and "big" (70,000 bytes, its own buffer).
    const layout2 = gunzipSync(
      Buffer.from(
        'H4sIAAAAAAAAA+3KMQ4BYRSF0fcbCZFIWItWMbETQkSDSqMRjU4leo3SAqhYgIzaYogYO1Ce09xbfNfKM1+fIqK1T4dh9R6pvch2jW7cIvUjIptNR1HKf6denIvLY/vYfIJ4pd7y2OysIvJ6GWSDyThSe14DAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP4uSnnru2+PVx/23hEBAA==',
        'base64',
      ),
    );
    expect(layout2[1]).toBe(2);
    const state = decodeState(layout2);
    expect(state).toMatchObject({ status: 'live', description: 'd', version: 4, bytes: 70_006, settings });
    expect(asRows(state)).toEqual([
      ['a', Buffer.from('one').toString('hex'), 0, 2],
      ['ключ', '00ff01', 1.9e12, 3],
      ['big', Buffer.alloc(70_000, 7).toString('hex'), 0, 4],
    ]);
    // Written again, it is layout 3 and reads the same.
    expect(asRows(decodeState(encodeState(state)))).toEqual(asRows(state));
  });

  it('a flipped byte, a cut or an extra byte is a CodecError, never a wrong state', () => {
    const map = new CompactEntryMap();
    for (let i = 0; i < 50; i++) map.set(`key-${i}`, { value: Buffer.from(`value ${i}`), expiresAt: 0, version: i + 1 });
    const encoded = encodeState(stateOf(map));
    for (const at of [1, 3, 12, encoded.length >> 1, encoded.length - 1]) {
      const flipped = Buffer.from(encoded);
      flipped[at] ^= 0x40;
      expect(() => decodeState(flipped)).toThrow(CodecError);
    }
    expect(() => decodeState(encoded.subarray(0, encoded.length - 3))).toThrow(CodecError);
    expect(() => decodeState(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(CodecError);
    expect(() => decodeState([encoded.subarray(0, 100), encoded.subarray(101)])).toThrow(CodecError);
  });
});
