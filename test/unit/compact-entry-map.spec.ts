import fc from 'fast-check';
import { CompactEntryMap } from '../../src/domain/compact-entry-map';
import { Entry } from '../../src/domain';

const asPlain = (entries: Iterable<[string, Entry]>) => [...entries].map(([k, e]) => [k, Buffer.from(e.value).toString('hex'), e.expiresAt, e.version]);

describe('CompactEntryMap', () => {
  it('behaves like a Map (order included) under random sets, deletes, clears and touches, compaction included', () => {
    const sizes = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(65_536, 65_537, 200_000, 900_000));
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 30 }), size: sizes, fill: fc.integer({ min: 0, max: 255 }), expiresAt: fc.constantFrom(0, 1.5e12, 2 ** 45) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 30 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
      // A read that counts as use: the model moves the key to the end by delete and re-insert.
      { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('touch' as const, 'use' as const), key: fc.integer({ min: 0, max: 30 }), now: fc.constantFrom(0, 2 ** 44) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const model = new Map<string, Entry>();
        const compact = new CompactEntryMap();
        const handedOut: Array<[Uint8Array, string]> = [];
        ops.forEach((o, version) => {
          if (o.kind === 'set') {
            const entry = { value: Buffer.alloc(o.size, o.fill), expiresAt: o.expiresAt, version };
            model.set(`k${o.key}`, entry);
            compact.set(`k${o.key}`, entry);
            const got = compact.get(`k${o.key}`)!;
            handedOut.push([got.value, Buffer.from(got.value).toString('hex')]);
          } else if (o.kind === 'delete') {
            expect(compact.delete(`k${o.key}`)).toBe(model.delete(`k${o.key}`));
          } else if (o.kind === 'touch' || o.kind === 'use') {
            const key = `k${o.key}`;
            const entry = model.get(key);
            const live = entry !== undefined && (o.kind === 'touch' || entry.expiresAt === 0 || entry.expiresAt > o.now);
            if (live) {
              model.delete(key);
              model.set(key, entry);
            }
            if (o.kind === 'touch') expect(compact.touch(key)).toBe(entry !== undefined);
            else {
              const value = compact.useValue(key, o.now);
              expect(value === undefined ? undefined : Buffer.from(value).toString('hex')).toBe(live ? Buffer.from(entry.value).toString('hex') : undefined);
            }
          } else {
            model.clear();
            compact.clear();
          }
          expect(compact.size).toBe(model.size);
        });
        expect(asPlain(compact.entries())).toEqual(asPlain(model.entries()));
        expect([...compact.keys()]).toEqual([...model.keys()]);
        for (const key of model.keys()) expect(compact.has(key)).toBe(true);
        // Values handed out earlier never change, whatever happened since.
        for (const [view, hex] of handedOut) expect(Buffer.from(view).toString('hex')).toBe(hex);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('a touch during iteration is seen like a Map re-insert (the walk goes on, the key comes again at the end)', () => {
    const map = new CompactEntryMap();
    for (const key of ['a', 'b', 'c']) map.set(key, { value: Buffer.from(key), expiresAt: 0, version: 1 });
    const seen: string[] = [];
    for (const key of map.keys()) {
      seen.push(key);
      if (key === 'a' && seen.length === 1) map.touch('a');
    }
    expect(seen).toEqual(['a', 'b', 'c', 'a']);
    expect([...map.keys()]).toEqual(['b', 'c', 'a']);
  });

  it('reclaims the space of overwritten values', () => {
    const map = new CompactEntryMap();
    const value = Buffer.alloc(1000, 1);
    for (let i = 0; i < 20_000; i++) map.set(`k${i % 100}`, { value, expiresAt: 0, version: i });
    expect(map.size).toBe(100);
    const slabs = (map as unknown as { slabs: Buffer[] }).slabs.length;
    expect(slabs).toBeLessThanOrEqual(6);
    expect(Buffer.from(map.get('k7')!.value).equals(value)).toBe(true);
  });
});
