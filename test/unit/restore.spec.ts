import { CacheEvent, CacheState, evolve, initialState } from '../../src/domain';
import { at, given } from '../support/given-when-then';

const bytes = (text: string) => Buffer.from(text);
const created = (description = ''): CacheEvent => ({ ...at(1), type: 'Created', description });
const set = (key: string, value: string, expiresAt = 0, ms = 2): CacheEvent => ({ ...at(ms), type: 'Set', key, value: bytes(value), expiresAt });
const stateOf = (events: CacheEvent[]): CacheState => events.reduce(evolve, initialState());
const restore = (target: CacheState) => ({ type: 'RestoreTo' as const, target, by: 'ops', device: 'console' });
const meta = (ms: number) => ({ at: ms, by: 'ops', device: 'console' });

describe('RestoreTo: the events that bring a cache back to a past state', () => {
  it('deletes keys added since, sets changed keys back with their original expiry, leaves equal keys alone', () => {
    const past = [created(), set('a', 'a1', 0), set('b', 'b1', 90_000), set('same', 's')];
    given([...past, set('a', 'a2'), set('c', 'c1'), { ...at(3), type: 'Deleted', key: 'b' }])
      .when(restore(stateOf(past)), 5_000)
      .then([
        { ...meta(5_000), type: 'Deleted', key: 'c' },
        { ...meta(5_000), type: 'Set', key: 'a', value: bytes('a1'), expiresAt: 0 },
        { ...meta(5_000), type: 'Set', key: 'b', value: bytes('b1'), expiresAt: 90_000 },
      ]);
  });

  it('is charged to the org quota: the growth it brings must fit in quotaRemaining', () => {
    const past = [created(), set('a', 'aaaa'), set('b', 'bb')];
    const now = [...past, { ...at(3), type: 'Flushed' } as CacheEvent, set('c', 'c')];
    // Back to 6 bytes from 1: a growth of 5.
    given(now).when({ ...restore(stateOf(past)), quotaRemaining: 4 }, 5_000).thenRejected('QUOTA_EXCEEDED');
    given(now)
      .when({ ...restore(stateOf(past)), quotaRemaining: 5 }, 5_000)
      .then([
        { ...meta(5_000), type: 'Deleted', key: 'c' },
        { ...meta(5_000), type: 'Set', key: 'a', value: bytes('aaaa'), expiresAt: 0 },
        { ...meta(5_000), type: 'Set', key: 'b', value: bytes('bb'), expiresAt: 0 },
      ]);
  });

  it('does not bring back entries that have expired since', () => {
    const past = [created(), set('short', 'x', 2_000), set('long', 'y', 99_000)];
    given([created()])
      .when(restore(stateOf(past)), 10_000)
      .then([{ ...meta(10_000), type: 'Set', key: 'long', value: bytes('y'), expiresAt: 99_000 }]);
  });

  it('flushes when the past state was empty, and changes the description back', () => {
    given([created('old'), { ...at(2), type: 'DescriptionChanged', description: 'new' }, set('k', 'v')])
      .when(restore(stateOf([created('old')])))
      .then([{ ...meta(1_000), type: 'DescriptionChanged', description: 'old' }, { ...meta(1_000), type: 'Flushed' }]);
  });

  it('recreates a deleted cache with its entries, and deletes a cache that did not exist then', () => {
    const past = [created('d'), set('k', 'v')];
    given([...past, { ...at(3), type: 'CacheDeleted' }])
      .when(restore(stateOf(past)))
      .then([{ ...meta(1_000), type: 'Created', description: 'd' }, { ...meta(1_000), type: 'Set', key: 'k', value: bytes('v'), expiresAt: 0 }]);
    given(past).when(restore(initialState())).then([{ ...meta(1_000), type: 'CacheDeleted' }]);
  });

  it('brings the settings back before the entries', () => {
    const settings: CacheEvent = { ...at(2), type: 'SettingsChanged', capacity: 2, ttlSeconds: 0, maxValueBytes: 0, cacheNullValue: true };
    const past = [created(), settings, set('k', 'v')];
    given([...past, { ...at(3), type: 'CacheDeleted' }])
      .when(restore(stateOf(past)))
      .then([
        { ...meta(1_000), type: 'Created', description: '' },
        { ...meta(1_000), type: 'SettingsChanged', capacity: 2, ttlSeconds: 0, maxValueBytes: 0, cacheNullValue: true },
        { ...meta(1_000), type: 'Set', key: 'k', value: bytes('v'), expiresAt: 0 },
      ]);
  });

  it('decides nothing when the cache already is in the past state', () => {
    const past = [created(), set('k', 'v')];
    given([...past, set('k', 'w'), set('k', 'v')]).when(restore(stateOf(past))).thenNothing();
    given([]).when(restore(initialState())).thenNothing();
  });

  it('yields exactly the past entries once its events are applied', () => {
    const past = [created(), set('a', '1'), set('b', '2'), set('c', '3')];
    const now = [...past, set('a', 'x'), { ...at(3), type: 'Deleted', key: 'b' } as CacheEvent, set('d', '4'), { ...at(4), type: 'Flushed' } as CacheEvent, set('e', '5')];
    const { state, when } = given(now);
    const decision = when(restore(stateOf(past))).decision;
    if (!decision.ok) throw new Error('rejected');
    decision.events.forEach((event) => evolve(state, event));
    const entries = (s: CacheState) => new Map([...s.entries.entries()].map(([k, e]) => [k, Buffer.from(e.value).toString()]));
    expect(entries(state)).toEqual(entries(stateOf(past)));
  });
});
