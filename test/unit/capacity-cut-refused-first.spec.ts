import { CacheEvent, CacheState, decide, evolve, initialState } from '../../src/domain';
import { at } from '../support/given-when-then';

/**
 * A command that will be refused is refused before it does its work: a capacity cut past
 * MAX_EVENTS_PER_COMMAND chose all its evictions (walking the cache's LRU order, 1–2 s on the
 * event loop for 150k keys) and only then was refused with 409. The cut now counts its evictions
 * first (O(1)) and never walks the cache when it is refused.
 */
describe('decide: a capacity cut beyond maxEvents', () => {
  const cache = (keys: number): CacheState => {
    const events: CacheEvent[] = [{ ...at(1), type: 'Created', description: '' }];
    for (let i = 0; i < keys; i++) events.push({ ...at(2), type: 'Set', key: `k${i}`, value: Buffer.from('v'), expiresAt: 0 });
    return events.reduce(evolve, initialState());
  };
  /** The state's key order may not be walked (that is the work a refusal must not do). */
  const unwalkable = (state: CacheState): CacheState => {
    const entries = state.entries as unknown as Record<string, unknown>;
    for (const walk of ['keys', 'values', 'entries', Symbol.iterator as unknown as string, 'forEach']) {
      entries[walk] = () => {
        throw new Error('the cache was walked');
      };
    }
    return state;
  };
  const cut = (capacity: number, maxEvents?: number) => ({ type: 'ChangeSettings' as const, settings: { capacity }, by: 'tester', device: null, ...(maxEvents === undefined ? {} : { maxEvents }) });

  it('is refused TOO_MANY_EVENTS without walking the cache', () => {
    const decision = decide(unwalkable(cache(100)), cut(1, 50), 5);
    expect(decision).toMatchObject({ ok: false, error: { code: 'TOO_MANY_EVENTS', message: expect.stringMatching(/100 events; MAX_EVENTS_PER_COMMAND is 50/) } });
  });

  it('counts exactly what it would append: SettingsChanged plus the evictions', () => {
    expect(decide(cache(100), cut(51, 50), 5)).toMatchObject({ ok: true, events: { length: 50 } });
    expect(decide(unwalkable(cache(100)), cut(50, 50), 5)).toMatchObject({ ok: false, error: { code: 'TOO_MANY_EVENTS' } });
  });

  it('capacity 0 (unlimited) evicts nothing and is never refused', () => {
    const limited = evolve(cache(100), { ...at(3), type: 'SettingsChanged', capacity: 200, ttlSeconds: 0, maxValueBytes: 0, cacheNullValue: true });
    expect(decide(unwalkable(limited), cut(0, 1), 5)).toMatchObject({ ok: true, events: [{ type: 'SettingsChanged', capacity: 0 }] });
  });

  it('without maxEvents (replays, older callers) decides as before', () => {
    expect(decide(cache(10), cut(1), 5)).toMatchObject({ ok: true, events: { length: 10 } });
  });
});
