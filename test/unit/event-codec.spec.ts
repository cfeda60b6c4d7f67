import { CacheEvent, evolve, initialState } from '../../src/domain';
import { toWireEvent } from '../../src/api/history/history.service';
import fc from 'fast-check';
import { decodeEvent, encodeEvent } from '../../src/journal/codec';
import { frameEvent, frameRecord, unframeRecord } from '../../src/journal/leveldb/record';
import { fromNdjsonLine, toNdjsonLine } from '../../src/journal/ndjson';

const meta = (at: number, by = 'ann', device: string | null = null) => ({ at, by, device });

/** One event of every type. */
const EVERY_TYPE: CacheEvent[] = [
  { ...meta(1_700_000_000_000, 'ann', 'laptop-1'), type: 'Created', description: 'first cache' },
  { ...meta(1_700_000_000_001), type: 'DescriptionChanged', description: 'renamed' },
  { ...meta(1_700_000_000_002, 'bob'), type: 'SettingsChanged', capacity: 10, ttlSeconds: 60, maxValueBytes: 1024, cacheNullValue: false },
  { ...meta(1_700_000_000_003, 'ann', 'laptop-1'), type: 'Set', key: 'k1', value: Buffer.from([0, 1, 2, 255]), expiresAt: 0 },
  { ...meta(1_700_000_000_004), type: 'Set', key: 'ü/..', value: Buffer.from('hello'), expiresAt: 1_700_000_600_000 },
  { ...meta(1_700_000_000_005), type: 'ExpiryChanged', key: 'ü/..', expiresAt: 1_700_000_900_000 },
  { ...meta(1_700_000_000_006), type: 'ExpiryChanged', key: 'k1', expiresAt: 0 },
  { ...meta(1_700_000_000_007), type: 'Deleted', key: 'k1' },
  { ...meta(1_700_000_900_001, 'system'), type: 'Expired', key: 'ü/..' },
  { ...meta(1_700_000_000_008), type: 'Evicted', key: 'k2' },
  { ...meta(1_700_000_000_009), type: 'Flushed' },
  { ...meta(1_700_000_000_010), type: 'CacheDeleted' },
];

describe('event codec', () => {
  it("frames an event in one buffer byte for byte as framing its encoding does, a large value's view included", () => {
    const sized = fc.oneof(fc.nat(300), fc.integer({ min: 65_530, max: 65_540 }), fc.integer({ min: 70_000, max: 300_000 }));
    const value = fc.tuple(sized, fc.nat(16), fc.boolean()).map(([n, offset, plain]) => {
      const whole = Buffer.alloc(n + offset + 3, (n % 250) + 1);
      const view = whole.subarray(offset, offset + n);
      return plain ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : view;
    });
    const expiresAt = fc.oneof(fc.constantFrom(0, 1_800_000_000_000, 2 ** 45, 1.5), fc.double({ min: 0, max: 4e12, noNaN: true }));
    const set = fc.record({ key: fc.string({ maxLength: 20 }), value, expiresAt, by: fc.string({ maxLength: 5 }), device: fc.option(fc.string({ maxLength: 5 })) });
    fc.assert(
      fc.property(fc.oneof(set.map(({ by, device, ...fields }): CacheEvent => ({ ...meta(1_700_000_000_000, by, device), type: 'Set', ...fields })), fc.constantFrom(...EVERY_TYPE)), (event) => {
        const framed = frameEvent(event);
        expect(framed.equals(frameRecord(encodeEvent(event)))).toBe(true);
        const decoded = decodeEvent(unframeRecord(framed) as Uint8Array);
        if (event.type !== 'Set' || decoded.type !== 'Set') return expect(decoded).toEqual(event);
        // Values compared as bytes (jest's deep equality walks a 300 KB buffer byte by byte, slowly).
        expect(Buffer.from(decoded.value).equals(Buffer.from(event.value))).toBe(true);
        expect({ ...decoded, value: null }).toEqual({ ...event, value: null });
      }),
      { numRuns: 150, seed: 5 },
    );
  });

  it('round-trips every event type, ExpiryChanged (tag 10) included', () => {
    for (const event of EVERY_TYPE) expect(decodeEvent(encodeEvent(event))).toEqual(event);
    // [10, at, by, device, key, expiresAt]: tag 10, then the fields in this order, for good.
    expect(encodeEvent(EVERY_TYPE[5]).toString('hex')).toBe('960acb4278bcfe56805000a3616e6ec0a5c3bc2f2e2ecb4278bcff323a0000');
  });

  it('reads a journal written before ExpiryChanged existed, byte for byte as that codec wrote it', () => {
    // Records of tags 1-9 as the codec of the previous release encoded them (MessagePack arrays).
    const old = [
      '9501cb4278bcfe56800000a3616e6ea86c6170746f702d31ab6669727374206361636865',
      '9502cb4278bcfe56801000a3616e6ec0a772656e616d6564',
      '9808cb4278bcfe56802000a3626f62c00a3ccd0400c2',
      '9705cb4278bcfe56803000a3616e6ea86c6170746f702d31a26b31c404000102ff00',
      '9705cb4278bcfe56804000a3616e6ec0a5c3bc2f2e2ec40568656c6c6fcb4278bcfee8fc0000',
      '9506cb4278bcfe56805000a3616e6ec0a26b31',
      '9507cb4278bcfee8fc1000a673797374656dc0a5c3bc2f2e2e',
      '9509cb4278bcfe56806000a3616e6ec0a26b32',
      '9404cb4278bcfe56807000a3616e6ec0',
      '9403cb4278bcfe56808000a3616e6ec0',
    ].map((hex) => decodeEvent(Buffer.from(hex, 'hex')));
    expect(old).toEqual([
      { ...meta(1_700_000_000_000, 'ann', 'laptop-1'), type: 'Created', description: 'first cache' },
      { ...meta(1_700_000_000_001), type: 'DescriptionChanged', description: 'renamed' },
      { ...meta(1_700_000_000_002, 'bob'), type: 'SettingsChanged', capacity: 10, ttlSeconds: 60, maxValueBytes: 1024, cacheNullValue: false },
      { ...meta(1_700_000_000_003, 'ann', 'laptop-1'), type: 'Set', key: 'k1', value: Buffer.from([0, 1, 2, 255]), expiresAt: 0 },
      { ...meta(1_700_000_000_004), type: 'Set', key: 'ü/..', value: Buffer.from('hello'), expiresAt: 1_700_000_600_000 },
      { ...meta(1_700_000_000_005), type: 'Deleted', key: 'k1' },
      { ...meta(1_700_000_600_001, 'system'), type: 'Expired', key: 'ü/..' },
      { ...meta(1_700_000_000_006), type: 'Evicted', key: 'k2' },
      { ...meta(1_700_000_000_007), type: 'Flushed' },
      { ...meta(1_700_000_000_008), type: 'CacheDeleted' },
    ]);
    const state = old.reduce(evolve, initialState());
    expect(state.status).toBe('deleted');
    expect(state.version).toBe(10);
  });

  it('NDJSON export and import round-trip ExpiryChanged', () => {
    const ref = { org: 'acme', name: 'c1' };
    for (const [i, event] of EVERY_TYPE.entries()) {
      const line = toNdjsonLine(ref, i + 1, event, 100 + i);
      expect(fromNdjsonLine(line.trimEnd(), i + 1)).toEqual({ ref, seq: i + 1, event });
    }
    expect(JSON.parse(toNdjsonLine(ref, 6, EVERY_TYPE[5]))).toMatchObject({ type: 'ExpiryChanged', key: 'ü/..', expiresAt: 1_700_000_900_000 });
  });

  it('history shows an ExpiryChanged with its key and expiry (null: none)', () => {
    expect(toWireEvent(6, 106, EVERY_TYPE[5])).toMatchObject({ type: 'ExpiryChanged', key: 'ü/..', expiresAt: new Date(1_700_000_900_000).toISOString() });
    expect(toWireEvent(7, 107, EVERY_TYPE[6])).toMatchObject({ type: 'ExpiryChanged', key: 'k1', expiresAt: null });
  });
});
