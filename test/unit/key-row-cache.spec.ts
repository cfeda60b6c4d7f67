import fc from 'fast-check';
import { KeyRowCache } from '../../src/journal/leveldb/leveldb-inline-read-models';

type Op = { kind: 'set' | 'clear'; key: number; absent: boolean };

/**
 * The LevelDB journal's cache of key rows keeps the `capacity` rows set most recently (a row set
 * again is the newest), whatever the order of sets, overwrites and clears: checked against a
 * plain list, row by row, after every operation.
 */
function againstList(capacity: number, ops: readonly Op[]): void {
  const cache = new KeyRowCache(capacity);
  let model: Array<{ key: string; bytes: number | null }> = [];
  ops.forEach((op, i) => {
    const key = `k${op.key}`;
    if (op.kind === 'clear') {
      cache.clear();
      model = [];
    } else {
      const row = op.absent ? null : { expiresAt: 0, bytes: i };
      cache.set('id', key, row);
      if (capacity > 0) {
        model = model.filter((entry) => entry.key !== key);
        model.push({ key, bytes: row === null ? null : i });
        model = model.slice(-capacity);
      }
    }
    expect(cache.size).toBe(model.length);
  });
  for (let k = 0; k <= 40; k++) {
    const held = model.find((entry) => entry.key === `k${k}`);
    const row = cache.get('id', `k${k}`);
    if (held === undefined) expect(row).toBeUndefined();
    else if (held.bytes === null) expect(row).toBeNull();
    else expect(row).toEqual({ expiresAt: 0, bytes: held.bytes });
  }
}

describe('KeyRowCache', () => {
  it('holds the most recently set rows, at most its capacity, through overwrites and clears', () => {
    const op = fc.record({ kind: fc.constantFrom<Op['kind']>('set', 'set', 'set', 'set', 'set', 'set', 'set', 'set', 'set', 'clear'), key: fc.integer({ min: 0, max: 40 }), absent: fc.boolean() });
    fc.assert(fc.property(fc.integer({ min: 0, max: 12 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => againstList(capacity, ops)), { numRuns: 300 });
  });

  it('drops the oldest row first over many evictions, and keeps every newer row', () => {
    const cache = new KeyRowCache(1_000);
    for (let i = 0; i < 100_000; i++) {
      cache.set('id', `k${i}`, { expiresAt: 0, bytes: i });
      // A row set again becomes the newest: k0 is kept however many rows come after it.
      if (i % 500 === 0) cache.set('id', 'k0', { expiresAt: 0, bytes: 0 });
    }
    expect(cache.size).toBe(1_000);
    expect(cache.get('id', 'k0')).toEqual({ expiresAt: 0, bytes: 0 });
    expect(cache.get('id', 'k98999')).toBeUndefined();
    for (let i = 99_001; i < 100_000; i++) expect(cache.get('id', `k${i}`)).toEqual({ expiresAt: 0, bytes: i });
  });
});
