import fc from 'fast-check';
import { KeyIndex, hashOf } from '../../src/domain/key-index';

type Op = { kind: 'add' | 'remove' | 'find'; key: number };

/** Runs ops on a KeyIndex and on a Map side by side; the owner's slot → key array as CompactEntryMap keeps it. */
function againstMap(ops: Op[], hash?: (key: string, seed: number) => number): KeyIndex {
  const keyOf: Array<string | undefined> = [];
  const index = new KeyIndex(keyOf, 0, hash);
  const model = new Map<string, number>();
  const free: number[] = [];
  for (const op of ops) {
    const key = `key-${op.key}`;
    if (op.kind === 'add') {
      if (model.has(key)) {
        expect(() => index.add(key, model.get(key)!)).toThrow(RangeError);
        continue;
      }
      const slot = free.length > 0 ? free.pop()! : keyOf.length;
      keyOf[slot] = key;
      index.add(key, slot);
      model.set(key, slot);
    } else if (op.kind === 'remove') {
      const slot = index.remove(key);
      expect(slot).toBe(model.get(key) ?? -1);
      if (slot >= 0) {
        keyOf[slot] = undefined;
        free.push(slot);
        model.delete(key);
      }
    } else expect(index.slotOf(key)).toBe(model.get(key) ?? -1);
    expect(index.size).toBe(model.size);
  }
  for (const [key, slot] of model) expect(index.slotOf(key)).toBe(slot);
  return index;
}

const ops = (keys: number) =>
  fc.array(
    fc.record({ kind: fc.constantFrom<Op['kind']>('add', 'add', 'remove', 'find'), key: fc.integer({ min: 0, max: keys }) }),
    { maxLength: 400 },
  );

describe('KeyIndex', () => {
  it('answers like a Map under random adds, removes and lookups (growth and backward-shift removal included)', () => {
    fc.assert(fc.property(ops(300), (o) => void againstMap(o)), { numRuns: 200, seed: 21 });
  });

  it('with hashes that all collide it still answers like a Map, having turned into one', () => {
    fc.assert(
      fc.property(ops(300), (o) => {
        const index = againstMap(o, () => 7);
        // More than MAX_PROBES keys on one home bucket cannot be placed by any seed.
        if (new Set(o.filter((x) => x.kind === 'add').map((x) => x.key)).size > 200) expect(index.isMap).toBe(true);
      }),
      { numRuns: 100, seed: 22 },
    );
    const colliding = againstMap(Array.from({ length: 500 }, (_, key) => ({ kind: 'add' as const, key })), () => 7);
    expect(colliding.isMap).toBe(true);
  });

  it('a clustered table (a few hash values only) stays a table while no run is long, and answers like a Map', () => {
    fc.assert(fc.property(ops(60), (o) => void againstMap(o, (key, seed) => (hashOf(key, seed) & 3) * 40)), { numRuns: 100, seed: 23 });
  });

  it('a million keys stay a table: no probe run comes near the limit by chance', () => {
    const keys = Array.from({ length: 1_000_000 }, (_, i) => `k${i}`);
    const index = new KeyIndex(keys, keys.length);
    keys.forEach((key, slot) => index.add(key, slot));
    expect(index.isMap).toBe(false);
    expect(index.size).toBe(1_000_000);
    for (let i = 0; i < keys.length; i += 997) expect(index.slotOf(keys[i])).toBe(i);
    expect(index.slotOf('k1000000')).toBe(-1);
  });

  it('the seeded hash differs by seed and spreads sequential keys', () => {
    expect(hashOf('some-key', 1)).not.toBe(hashOf('some-key', 2));
    const buckets = new Set(Array.from({ length: 4096 }, (_, i) => hashOf(`k${i}`, 12345) & 4095));
    expect(buckets.size).toBeGreaterThan(2400); // ~2,589 expected for random placement
  });
});
