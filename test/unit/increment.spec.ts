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
    given([]).when({ ...who, type: 'Increment', key: 'n', amount: 5n }).then([
      { ...at(1_000), type: 'Created', description: '' },
      { ...at(1_000), type: 'Set', key: 'n', value: new TextEncoder().encode('5'), expiresAt: 0 },
    ]);
  });

  it('adds to a decimal value, negative amounts decrement, and the expiry of the item is kept', () => {
    const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('130'), expiresAt: 50_000 };
    const d1 = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 2n }).decision;
    expect(d1).toEqual({ ok: true, events: [{ ...at(1_000), type: 'Set', key: 'n', value: new TextEncoder().encode('132'), expiresAt: 50_000 }] });
    const d2 = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: -140n }).decision;
    expect(d2.ok && valueOf(d2.events)).toBe('-10');
  });

  it('counts the growth of the value against the quota, like any write', () => {
    const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('99'), expiresAt: 0 };
    given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1n, quotaRemaining: 0 }).thenRejected('QUOTA_EXCEEDED');
    const ok = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1n, quotaRemaining: 1 }).decision;
    expect(ok.ok && valueOf(ok.events)).toBe('100');
    const same = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: -1n, quotaRemaining: 0 }).decision;
    expect(same.ok && valueOf(same.events)).toBe('98');
  });

  it('rejects a value that is not a decimal integer with NOT_A_NUMBER', () => {
    for (const text of ['abc', '1.5', '', ' 1', '-', '1e3', '+1', '12a']) {
      const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes(text), expiresAt: 0 };
      given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }).thenRejected('NOT_A_NUMBER');
    }
  });

  it('works on 64-bit signed integers exactly, beyond 2^53', () => {
    const above53: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('9007199254740993'), expiresAt: 0 };
    const d = given([created, above53]).when({ ...who, type: 'Increment', key: 'n', amount: 2n }).decision;
    expect(d.ok && valueOf(d.events)).toBe('9007199254740995');
    const nearMax: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('9223372036854775806'), expiresAt: 0 };
    const toMax = given([created, nearMax]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }).decision;
    expect(toMax.ok && valueOf(toMax.events)).toBe('9223372036854775807');
    const leadingZeros: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('-0007'), expiresAt: 0 };
    const z = given([created, leadingZeros]).when({ ...who, type: 'Increment', key: 'n', amount: 2n ** 53n }).decision;
    expect(z.ok && valueOf(z.events)).toBe('9007199254740985');
  });

  it('rejects an overflow, a stored integer beyond 64 bits and an amount beyond 64 bits with NUMBER_OUT_OF_RANGE', () => {
    const max: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('9223372036854775807'), expiresAt: 0 };
    given([created, max]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }).thenRejected('NUMBER_OUT_OF_RANGE');
    const min: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('-9223372036854775808'), expiresAt: 0 };
    given([created, min]).when({ ...who, type: 'Increment', key: 'n', amount: -1n }).thenRejected('NUMBER_OUT_OF_RANGE');
    const huge: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('12345678901234567890123'), expiresAt: 0 };
    given([created, huge]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }).thenRejected('NUMBER_OUT_OF_RANGE');
    given([created]).when({ ...who, type: 'Increment', key: 'n', amount: 2n ** 63n }).thenRejected('NUMBER_OUT_OF_RANGE');
    const rejected = given([created, max]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }).decision;
    expect(!rejected.ok && rejected.error.message).toMatch(/overflow a 64-bit signed integer/);
  });

  it('an expired value counts as missing', () => {
    const set: CacheEvent = { ...at(2), type: 'Set', key: 'n', value: bytes('41'), expiresAt: 500 };
    const d = given([created, set]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }, 1_000).decision;
    expect(d.ok && valueOf(d.events)).toBe('1');
  });

  it('replaying the journaled Set events reproduces the counter without re-running the arithmetic', () => {
    const state = [created].reduce(evolve, initialState());
    const journal: CacheEvent[] = [created];
    for (let i = 0; i < 10; i++) {
      const decision = given(journal).when({ ...who, type: 'Increment', key: 'n', amount: 3n }).decision;
      if (!decision.ok) throw new Error('rejected');
      journal.push(...decision.events);
      decision.events.forEach((e) => evolve(state, e));
    }
    const replayed = journal.reduce(evolve, initialState());
    expect(Buffer.from(replayed.entries.get('n')!.value).toString()).toBe('30');
    expect(replayed.entries.get('n')).toEqual(state.entries.get('n'));
  });
});
