import fc from 'fast-check';
import { Operation, RegisterInput, RegisterOutput, RegisterState, checkLinearizable, versionedRegister } from '../support/linearizability';

/**
 * The checker of the cluster's Jepsen-style test, on hand-made histories: it accepts the
 * linearizable ones (concurrency resolved either way, indeterminate operations that did or did
 * not happen), and it refuses the classic violations (a stale read, a lost acknowledged write,
 * a fork: two writes both accepted on the same version, a value that flips back, a value
 * nobody wrote). Generated histories of a real atomic register are always accepted.
 */
type Op = Operation<RegisterInput, RegisterOutput>;

const INIT: RegisterState = { value: '0', version: 2 };
const check = (history: Op[], init = INIT) => checkLinearizable(versionedRegister(init), history);

const read = (p: number, at: number, end: number, value: string, version: number): Op => ({ process: p, input: { f: 'read' }, output: { value, version }, outcome: 'ok', invokedAt: at, completedAt: end });
const write = (p: number, at: number, end: number, value: string, outcome: 'ok' | 'info' | 'fail' = 'ok'): Op => ({ process: p, input: { f: 'write', value }, outcome, invokedAt: at, completedAt: end });
const incr = (p: number, at: number, end: number, amount: number, result?: string, outcome: 'ok' | 'info' = 'ok'): Op => ({
  process: p,
  input: { f: 'incr', amount },
  output: result === undefined ? undefined : { value: result },
  outcome,
  invokedAt: at,
  completedAt: end,
});
const cas = (p: number, at: number, end: number, expected: number, value: string, outcome: 'ok' | 'info' | 'fail' = 'ok'): Op => ({ process: p, input: { f: 'cas', expected, value }, outcome, invokedAt: at, completedAt: end });

describe('linearizability checker (versioned single-key register)', () => {
  describe('accepts', () => {
    it('a sequential history', () => {
      expect(check([write(1, 0, 1, '10'), read(1, 2, 3, '10', 3), incr(1, 4, 5, 5, '15'), cas(1, 6, 7, 4, '20'), read(1, 8, 9, '20', 5)]).valid).toBe(true);
    });

    it('concurrent writes seen in either order', () => {
      const writes = [write(1, 0, 10, '1'), write(2, 0, 10, '2')];
      expect(check([...writes, read(3, 11, 12, '1', 4)]).valid).toBe(true);
      expect(check([...writes, read(3, 11, 12, '2', 4)]).valid).toBe(true);
      // A read concurrent with both may see either, or neither.
      expect(check([...writes, read(3, 1, 9, '0', 2), read(4, 1, 9, '2', 3)]).valid).toBe(true);
    });

    it('an indeterminate write that happened, and one that did not', () => {
      expect(check([write(1, 0, 0, '7', 'info'), read(2, 5, 6, '7', 3)]).valid).toBe(true);
      expect(check([write(1, 0, 0, '7', 'info'), read(2, 5, 6, '0', 2)]).valid).toBe(true);
      // ... or that took effect long after it was given up on.
      expect(check([write(1, 0, 0, '7', 'info'), read(2, 5, 6, '0', 2), read(2, 50, 60, '7', 3)]).valid).toBe(true);
    });

    it('a failed write as not having happened, and a cas refused on a stale version', () => {
      expect(check([write(1, 0, 1, '9', 'fail'), read(2, 2, 3, '0', 2)]).valid).toBe(true);
      expect(check([write(1, 0, 1, '5'), cas(2, 2, 3, 2, '6', 'fail'), read(2, 4, 5, '5', 3)]).valid).toBe(true);
    });

    it('concurrent increments each counted once', () => {
      expect(check([incr(1, 0, 10, 1, '2'), incr(2, 0, 10, 1, '1'), read(3, 11, 12, '2', 4)]).valid).toBe(true);
    });

    it('an indeterminate cas taking effect only where its version matched', () => {
      expect(check([write(1, 0, 1, '5'), cas(2, 2, 2, 3, '8', 'info'), read(1, 3, 4, '8', 4)]).valid).toBe(true);
    });
  });

  describe('refuses', () => {
    it('a stale read: a write acknowledged before the read began is not seen', () => {
      const result = check([write(1, 0, 1, '1'), read(2, 2, 3, '0', 2)]);
      expect(result.valid).toBe(false);
      expect(result.failedOp).toMatchObject({ process: 2, input: { f: 'read' } });
      expect(result.explanation).toMatch(/read -> 0 \(version 2\)/);
    });

    it('a lost acknowledged write: the version did not move past it', () => {
      expect(check([write(1, 0, 1, '1'), write(1, 2, 3, '2'), read(2, 4, 5, '2', 3)]).valid).toBe(false);
    });

    it('a fork: two cas on the same version both acknowledged', () => {
      expect(check([cas(1, 0, 5, 2, '1'), cas(2, 0, 5, 2, '2')]).valid).toBe(false);
      // ... and as readers see it: two values with the same version.
      expect(check([write(1, 0, 5, '1'), write(2, 0, 5, '2'), read(3, 6, 7, '1', 3), read(4, 8, 9, '2', 3)]).valid).toBe(false);
    });

    it('two increments that both read the same value', () => {
      expect(check([incr(1, 0, 10, 1, '1'), incr(2, 0, 10, 1, '1')]).valid).toBe(false);
    });

    it('a value that flips back (seen new, then old, with no write between)', () => {
      expect(check([write(1, 0, 10, '1'), read(2, 1, 2, '1', 3), read(3, 3, 4, '0', 2)]).valid).toBe(false);
      // An indeterminate write seen once cannot be un-seen either.
      expect(check([write(1, 0, 0, '7', 'info'), read(2, 5, 6, '7', 3), read(2, 7, 8, '0', 2)]).valid).toBe(false);
    });

    it('a value nobody wrote, or only a refused write wrote', () => {
      expect(check([read(1, 0, 1, '42', 3)]).valid).toBe(false);
      expect(check([write(1, 0, 1, '9', 'fail'), read(2, 2, 3, '9', 3)]).valid).toBe(false);
    });

    it('a cas acknowledged on a version the key no longer had', () => {
      expect(check([write(1, 0, 1, '5'), cas(2, 2, 3, 2, '6')]).valid).toBe(false);
    });

    it('an increment from a value that was not the current one', () => {
      expect(check([write(1, 0, 1, '10'), incr(2, 2, 3, 1, '1')]).valid).toBe(false);
    });
  });

  it('gives up (unknown) rather than search without bound', () => {
    const infos = Array.from({ length: 14 }, (_, i) => write(i, 0, 0, String(100 + i), 'info'));
    const result = checkLinearizable(versionedRegister(INIT), [...infos, read(99, 1, 2, '0', 2), read(99, 3, 4, '113', 9)], { maxConfigurations: 1000 });
    expect(result.valid).toBe('unknown');
  });

  it('accepts every history of a real atomic register, whatever the overlap and the indeterminate operations', () => {
    // A register run for real: each operation takes effect at one instant inside its interval;
    // some are reported indeterminate (those may or may not have taken effect), some refused.
    const opArb = fc.record({
      f: fc.constantFrom('read', 'write', 'incr', 'cas', 'cas-stale'),
      start: fc.integer({ min: 0, max: 200 }),
      length: fc.integer({ min: 0, max: 40 }),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      outcome: fc.constantFrom('ok', 'ok', 'ok', 'info', 'lost'),
    });
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (specs) => {
        const timed = specs.map((s, i) => ({ ...s, i, point: s.start + s.at * s.length + i * 1e-6 }));
        const byPoint = [...timed].sort((a, b) => a.point - b.point);
        let state = INIT;
        const history: Op[] = [];
        for (const s of byPoint) {
          const p = s.i;
          const end = s.start + s.length + 0.5;
          // 'lost': an indeterminate operation that never took effect.
          const happens = s.outcome !== 'lost';
          const outcome = s.outcome === 'ok' ? 'ok' : 'info';
          if (s.f === 'read') {
            if (outcome === 'ok') history.push(read(p, s.start, end, state.value, state.version));
            continue;
          }
          if (s.f === 'write') {
            const value = String(1000 + s.i);
            if (happens) state = { value, version: state.version + 1 };
            history.push(write(p, s.start, end, value, outcome));
          } else if (s.f === 'incr') {
            const value = String(BigInt(state.value) + 3n);
            if (happens) state = { value, version: state.version + 1 };
            history.push(incr(p, s.start, end, 3, outcome === 'ok' ? value : undefined, outcome));
          } else {
            const expected = s.f === 'cas' ? state.version : state.version - 1;
            const value = String(1000 + s.i);
            if (expected === state.version && happens) {
              state = { value, version: state.version + 1 };
              history.push(cas(p, s.start, end, expected, value, outcome));
            } else {
              history.push(cas(p, s.start, end, expected, value, outcome === 'ok' ? 'fail' : 'info'));
            }
          }
        }
        const result = check(history);
        if (result.valid !== true) throw new Error(result.explanation);
      }),
      { numRuns: 300 },
    );
  });
});
