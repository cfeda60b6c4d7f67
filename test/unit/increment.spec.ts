import { CacheEvent, evolve, initialState } from '../../src/domain';
import { at, given } from '../support/given-when-then';

const bytes = (text: string) => Buffer.from(text);
const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const who = { by: 'tester' };
const valueOf = (events: readonly CacheEvent[]) => {
  const set = events.find((e) => e.type === 'Set');
  return set && set.type === 'Set' ? Buffer.from(set.value).toString() : undefined;
};

describe('decide: atomic increment, journaled as the resulting value', () => {
  it('a missing key starts from 0 (and a missing cache is created)', () => {
    given([]).when({ ...who, type: 'Increment', key: 'n', amount: 5 }).then([
      { ...at(1_000), type: 'Created', description: '' },
      { ...at(1_000), type: 'Set', key: 'n', value: new TextEncoder().encode('5'), expiresAt: 0 },
    ]);
  });

  it('adds to a decimal value, negative amounts decrement, and the expiry of the item is kept', () => {
    const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('130'), expiresAt: 50_000 };
    const d1 = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 2 }).decision;
    expect(d1).toEqual({ ok: true, events: [{ ...at(1_000), type: 'Set', key: 'n', value: new TextEncoder().encode('132'), expiresAt: 50_000 }] });
    const d2 = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: -140 }).decision;
    expect(d2.ok && valueOf(d2.events)).toBe('-10');
  });

  it('counts the growth of the value against the quota, like any write', () => {
    const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('99'), expiresAt: 0 };
    given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1, quotaRemaining: 0 }).thenRejected('QUOTA_EXCEEDED');
    const ok = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1, quotaRemaining: 1 }).decision;
    expect(ok.ok && valueOf(ok.events)).toBe('100');
    const same = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: -1, quotaRemaining: 0 }).decision;
    expect(same.ok && valueOf(same.events)).toBe('98');
  });

  it('rejects a non-numeric value with NOT_A_NUMBER', () => {
    for (const text of ['abc', '1.5', '', ' 1', '12345678901234567890']) {
      const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes(text), expiresAt: 0 };
      given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1 }).thenRejected('NOT_A_NUMBER');
    }
  });

  it('rejects a fractional amount and a result outside the safe integer range', () => {
    given([created]).when({ ...who, type: 'Increment', key: 'n', amount: 1.5 }).thenRejected('INVALID_ARGUMENT');
    const big: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes(String(Number.MAX_SAFE_INTEGER)), expiresAt: 0 };
    given([created, big]).when({ ...who, type: 'Increment', key: 'n', amount: 1 }).thenRejected('INVALID_ARGUMENT');
  });

  it('an expired value counts as missing', () => {
    const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('41'), expiresAt: 500 };
    const d = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1 }, 1_000).decision;
    expect(d.ok && valueOf(d.events)).toBe('1');
  });

  it('replaying the journaled Set events reproduces the counter without re-running the arithmetic', () => {
    const state = [created].reduce(evolve, initialState());
    const journal: CacheEvent[] = [created];
    for (let i = 0; i < 10; i++) {
      const decision = given(journal).when({ ...who, type: 'Increment', key: 'n', amount: 3 }).decision;
      if (!decision.ok) throw new Error('rejected');
      journal.push(...decision.events);
      decision.events.forEach((e) => evolve(state, e));
    }
    const replayed = journal.reduce(evolve, initialState());
    expect(Buffer.from(replayed.entries.get('n')!.value).toString()).toBe('30');
    expect(replayed.entries.get('n')).toEqual(state.entries.get('n'));
  });
});
