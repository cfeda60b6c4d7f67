import fc from 'fast-check';
import { OverlayMap } from '../../src/domain';

type Op = { op: 'set'; key: string; value: number } | { op: 'delete'; key: string } | { op: 'clear' };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), value: fc.integer() }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e') }),
    fc.constant({ op: 'clear' as const }),
  ),
  { maxLength: 30 },
);

function apply(map: { set(k: string, v: number): unknown; delete(k: string): unknown; clear(): void }, list: Op[]) {
  for (const o of list) {
    if (o.op === 'set') map.set(o.key, o.value);
    else if (o.op === 'delete') map.delete(o.key);
    else map.clear();
  }
}

describe('OverlayMap (the draft a group of commands is decided on)', () => {
  it('behaves exactly like Map, insertion order included, and never touches its base', () => {
    fc.assert(
      fc.property(ops, ops, (before, after) => {
        const base = new Map<string, number>();
        apply(base, before);
        const snapshot = [...base.entries()];
        const expected = new Map(base);
        apply(expected, after);

        const overlay = new OverlayMap<number>(base);
        apply(overlay, after);

        expect([...overlay.entries()]).toEqual([...expected.entries()]);
        expect(overlay.size).toBe(expected.size);
        for (const key of ['a', 'b', 'c', 'd', 'e']) expect(overlay.get(key)).toBe(expected.get(key));
        expect([...base.entries()]).toEqual(snapshot);
      }),
      { numRuns: 500 },
    );
  });
});
