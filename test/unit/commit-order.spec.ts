import fc from 'fast-check';
import { LARGE_APPEND_BYTES, OrderedAppend, PASSED_OVER_AT_MOST, nextGroup } from '../../src/journal/leveldb/commit-order';

/**
 * The next group commit's appends, given any arrivals between batches: every append is written
 * once, an entity's appends in the order they came; a batch is never empty while appends wait;
 * a small append that nothing of its own entity holds back is never left waiting; a large one is
 * left out of at most PASSED_OVER_AT_MOST batches.
 */
interface Append extends OrderedAppend {
  readonly id: number;
}

const arrival = fc.record({ entity: fc.constantFrom('a', 'b', 'c', 'd'), large: fc.boolean() });
const rounds = fc.array(fc.array(arrival, { maxLength: 5 }), { minLength: 1, maxLength: 30 });

describe('commit order: which waiting appends go into the next group commit', () => {
  it('writes each append once, in its entity order, small ones first, large ones put off a bounded number of times', () => {
    fc.assert(
      fc.property(rounds, (batches) => {
        let waiting: Append[] = [];
        let next = 0;
        const written: Append[] = [];
        const arrivedAt = new Map<number, number>();
        const drain = (round: number) => {
          const { take, rest } = nextGroup(waiting);
          expect(take.length).toBeGreaterThan(0);
          expect([...take, ...rest].map((a) => a.id).sort((x, y) => x - y)).toEqual(waiting.map((a) => a.id).sort((x, y) => x - y));
          const held = new Set(rest.map((a) => a.idKey));
          for (const left of rest) {
            const small = left.bytes < LARGE_APPEND_BYTES;
            // Left waiting: large (within its allowance), or behind an earlier append of its own entity.
            const earlierOfItsOwn = rest.some((other) => other.idKey === left.idKey && other.id < left.id);
            expect(earlierOfItsOwn || (!small && left.passedOver <= PASSED_OVER_AT_MOST)).toBe(true);
          }
          for (const taken of take) expect(held.has(taken.idKey) && rest.some((r) => r.idKey === taken.idKey && r.id < taken.id)).toBe(false);
          for (const taken of take) expect(round - arrivedAt.get(taken.id)!).toBeLessThanOrEqual(PASSED_OVER_AT_MOST);
          written.push(...take);
          waiting = rest;
        };
        batches.forEach((arrivals, round) => {
          for (const { entity, large } of arrivals) {
            arrivedAt.set(next, round);
            waiting.push({ id: next++, idKey: entity, bytes: large ? LARGE_APPEND_BYTES : 100, passedOver: 0 });
          }
          if (waiting.length > 0) drain(round);
        });
        for (let round = batches.length; waiting.length > 0; round++) drain(round);
        expect(written.map((a) => a.id).sort((x, y) => x - y)).toEqual(Array.from({ length: next }, (_, i) => i));
        for (const entity of ['a', 'b', 'c', 'd']) {
          const ids = written.filter((a) => a.idKey === entity).map((a) => a.id);
          expect(ids).toEqual([...ids].sort((x, y) => x - y));
        }
      }),
      { numRuns: 500, seed: 21 },
    );
  });

  it('a small write that comes while a large one of another org waits goes first', () => {
    const large = { idKey: 'attacker', bytes: 1 << 20, passedOver: 0 };
    const small = { idKey: 'canary', bytes: 100, passedOver: 0 };
    expect(nextGroup([large, small])).toEqual({ take: [small], rest: [{ ...large, passedOver: 1 }] });
    expect(nextGroup([large])).toEqual({ take: [large], rest: [] });
  });
});
