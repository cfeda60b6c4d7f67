import fc from 'fast-check';
import { CacheEvent, CacheState, evolve, evolveOnly, initialState } from '../../src/domain';
import { CodecError, decodeState, encodeState } from '../../src/journal/codec';

/**
 * A point-in-time read of one key decodes that key alone: the snapshot restricted to the key
 * (decodeState with `only`), then the events after it applied by evolveOnly. Given any events,
 * a snapshot taken after any prefix of them (stored in chunks cut anywhere), and any key: the
 * key's entry, the version, status, settings and description equal the whole state's, and no
 * other key is held.
 */
const KEYS = ['a', 'b', 'ключ', '🔑', ''];
const meta = { at: 1_700_000_000_000, by: 'prop', device: null };
const key = fc.constantFrom(...KEYS);
const value = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom(65_537, 130_000).map((n) => new Uint8Array(n).fill(n % 249)) },
);
const event: fc.Arbitrary<CacheEvent> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ key, value, expiresAt: fc.constantFrom(0, 1.8e12) }).map(({ key, value, expiresAt }): CacheEvent => ({ ...meta, type: 'Set', key, value, expiresAt })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Deleted' as const, 'Expired' as const, 'Evicted' as const), key).map(([type, key]): CacheEvent => ({ ...meta, type, key })) },
  { weight: 1, arbitrary: fc.tuple(key, fc.constantFrom(0, 1.9e12)).map(([key, expiresAt]): CacheEvent => ({ ...meta, type: 'ExpiryChanged', key, expiresAt })) },
  { weight: 1, arbitrary: fc.constant<CacheEvent>({ ...meta, type: 'Flushed' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((description): CacheEvent => ({ ...meta, type: 'DescriptionChanged', description })) },
  { weight: 1, arbitrary: fc.nat(5).map((capacity): CacheEvent => ({ ...meta, type: 'SettingsChanged', capacity, ttlSeconds: 0, maxValueBytes: 0, cacheNullValue: false })) },
  { weight: 1, arbitrary: fc.constant<CacheEvent>({ ...meta, type: 'CacheDeleted' }) },
);
const history = fc.array(event, { maxLength: 40 }).map((events): CacheEvent[] => [{ ...meta, type: 'Created', description: 'c' }, ...events]);

const replay = (state: CacheState, events: readonly CacheEvent[]) => events.reduce((s, e) => evolve(s, e), state);
const entryOf = (state: CacheState, k: string) => {
  const entry = state.entries.get(k);
  return entry && { value: Buffer.from(entry.value).toString('hex'), expiresAt: entry.expiresAt, version: entry.version };
};
const head = ({ version, status, settings, description }: CacheState) => ({ version, status, settings, description });

/** `bytes` cut in pieces of the given sizes, each its own buffer (as LevelDB hands out chunks). */
function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    parts.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
  return parts;
}

describe('a point-in-time read of one key decodes that key alone', () => {
  it('snapshot restricted to the key, then evolveOnly: the key, version, status, settings and description are the whole state\'s', () => {
    fc.assert(
      fc.property(history, fc.nat(), key, fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), (events, at, k, sizes) => {
        const split = at % (events.length + 1);
        const snapshot = encodeState(replay(initialState(), events.slice(0, split)));
        const whole = replay(decodeState(snapshot), events.slice(split));
        const only = new Set([k]);
        const one = events.slice(split).reduce((s, e) => evolveOnly(s, e, only), decodeState(cut(snapshot, sizes), { only }));
        expect(entryOf(one, k)).toEqual(entryOf(whole, k));
        expect(head(one)).toEqual(head(whole));
        expect([...one.entries.keys()].filter((other) => other !== k)).toStrictEqual([]);
        expect(one.bytes).toBe(whole.entries.get(k)?.value.byteLength ?? 0);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('the whole snapshot is still checked: a flipped byte anywhere is a CodecError, read for one key', () => {
    fc.assert(
      fc.property(history, fc.nat(), key, (events, flip, k) => {
        const snapshot = encodeState(replay(initialState(), events));
        const damaged = Buffer.from(snapshot);
        const at = 2 + (flip % (damaged.length - 2)); // past the layout's magic and number
        damaged[at] ^= 0x20;
        expect(() => decodeState(damaged, { only: new Set([k]) })).toThrow(CodecError);
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});
