import { CacheEvent, DEFAULT_SETTINGS, decide, evolve } from '../../src/domain';
import { at, given } from '../support/given-when-then';

const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const set = (key: string): CacheEvent => ({ ...at(2), type: 'Set', key, value: Buffer.from(key), expiresAt: 0 });
const capacity = (n: number): CacheEvent => ({ ...at(3), type: 'SettingsChanged', ...DEFAULT_SETTINGS, capacity: n });
const evicted = (key: string): CacheEvent => ({ ...at(1_000), type: 'Evicted', key });
const keys = (n: number) => Array.from({ length: n }, (_, i) => set(`k${i}`));
const who = { by: 'tester', device: null };

/**
 * A capacity cut is journaled in steps of one commit group each (evictAtMost, from the shell),
 * so the event loop is never held for a whole cut: the cut decides its settings and the first
 * evictions, TrimToCapacity the next ones, and a write into a cache still over its capacity
 * evicts only as many keys as it adds.
 */
describe('decide: a capacity cut in bounded steps', () => {
  it('a cut decides SettingsChanged and at most evictAtMost evictions, least recently used first', () => {
    given([created, ...keys(6)]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 1 }, evictAtMost: 2 }).then([
      { ...at(1_000), type: 'SettingsChanged', ...DEFAULT_SETTINGS, capacity: 1 },
      evicted('k0'),
      evicted('k1'),
    ]);
  });

  it('without evictAtMost (replays, older callers) it decides every eviction at once', () => {
    given([created, ...keys(4)]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 1 } }).then([
      { ...at(1_000), type: 'SettingsChanged', ...DEFAULT_SETTINGS, capacity: 1 },
      evicted('k0'),
      evicted('k1'),
      evicted('k2'),
    ]);
  });

  it('TrimToCapacity evicts the next least recently used keys, at most evictAtMost', () => {
    const cut = [created, ...keys(6), capacity(1), { ...at(3), type: 'Evicted' as const, key: 'k0' }];
    given(cut).when({ ...who, type: 'TrimToCapacity', evictAtMost: 3 }).then([evicted('k1'), evicted('k2'), evicted('k3')]);
    given(cut).when({ ...who, type: 'TrimToCapacity', evictAtMost: 100 }).then([evicted('k1'), evicted('k2'), evicted('k3'), evicted('k4')]);
  });

  it('TrimToCapacity decides nothing for a cache within its capacity, without a limit, or not live', () => {
    given([created, ...keys(2), capacity(2)]).when({ ...who, type: 'TrimToCapacity', evictAtMost: 5 }).thenNothing();
    given([created, ...keys(2)]).when({ ...who, type: 'TrimToCapacity', evictAtMost: 5 }).thenNothing();
    given([]).when({ ...who, type: 'TrimToCapacity', evictAtMost: 5 }).thenNothing();
  });

  it('a new key in a cache still over its capacity evicts one key, never the whole excess', () => {
    given([created, ...keys(5), capacity(2)]).when({ ...who, type: 'SetValue', key: 'new', value: Buffer.from('n') }).then([
      evicted('k0'),
      { ...at(1_000), type: 'Set', key: 'new', value: Buffer.from('n'), expiresAt: 0 },
    ]);
    // An overwrite adds no key, so it evicts none.
    given([created, ...keys(5), capacity(2)]).when({ ...who, type: 'SetValue', key: 'k4', value: Buffer.from('n') }).then([
      { ...at(1_000), type: 'Set', key: 'k4', value: Buffer.from('n'), expiresAt: 0 },
    ]);
  });

  it('the same settings again go on with a cut a crash left part-way, still in a bounded step', () => {
    given([created, ...keys(5), capacity(2)]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 2 }, evictAtMost: 2 }).then([evicted('k0'), evicted('k1')]);
    given([created, ...keys(2), capacity(2)]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 2 }, evictAtMost: 2 }).thenNothing();
  });

  it('is still refused before its work beyond maxEvents, counting every eviction of every step', () => {
    const decision = decide([created, ...keys(10)].reduce(evolve, given([]).state), { ...who, type: 'ChangeSettings', settings: { capacity: 1 }, maxEvents: 5, evictAtMost: 2 }, 1_000);
    expect(decision).toMatchObject({ ok: false, error: { code: 'TOO_MANY_EVENTS', message: expect.stringMatching(/10 events/) } });
  });
});
