import { CacheEvent, DEFAULT_SETTINGS, evolve, initialState } from '../../src/domain';
import { at, given } from '../support/given-when-then';

const bytes = (text: string) => Buffer.from(text);
const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const who = { by: 'tester' };
const settings = (changes: Partial<typeof DEFAULT_SETTINGS>): CacheEvent => ({ ...at(2), type: 'SettingsChanged', ...DEFAULT_SETTINGS, ...changes });

describe('decide: per-cache settings', () => {
  it('a change is journaled with the whole resulting settings, and unchanged fields keep their values', () => {
    given([created, settings({ ttlSeconds: 60 })]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 10 } }).then([
      { ...at(1_000), type: 'SettingsChanged', capacity: 10, ttlSeconds: 60, maxValueBytes: 0, cacheNullValue: true },
    ]);
  });

  it('a change to the same values decides nothing', () => {
    given([created, settings({ capacity: 3 })]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 3 } }).thenNothing();
  });

  it('settings of a missing cache are rejected with CACHE_NOT_FOUND', () => {
    given([]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 3 } }).thenRejected('CACHE_NOT_FOUND');
  });

  it('invalid values are rejected with INVALID_ARGUMENT', () => {
    for (const bad of [{ capacity: -1 }, { ttlSeconds: 1.5 }, { maxValueBytes: Number.NaN }, { cacheNullValue: 'no' as unknown as boolean }]) {
      given([created]).when({ ...who, type: 'ChangeSettings', settings: bad }).thenRejected('INVALID_ARGUMENT');
    }
  });

  it('the default ttl applies to values set without a ttl, not to those with one', () => {
    const g = given([created, settings({ ttlSeconds: 60 })]);
    g.when({ ...who, type: 'SetValue', key: 'k', value: bytes('v') }, 1_000).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('v'), expiresAt: 61_000 },
    ]);
    g.when({ ...who, type: 'SetValue', key: 'k', value: bytes('v'), ttlSeconds: 5 }, 1_000).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('v'), expiresAt: 6_000 },
    ]);
  });

  it('maxValueBytes rejects larger values with VALUE_TOO_LARGE', () => {
    const g = given([created, settings({ maxValueBytes: 3 })]);
    g.when({ ...who, type: 'SetValue', key: 'k', value: bytes('1234') }).thenRejected('VALUE_TOO_LARGE');
    g.when({ ...who, type: 'SetValue', key: 'k', value: bytes('123') }).then([{ ...at(1_000), type: 'Set', key: 'k', value: bytes('123'), expiresAt: 0 }]);
  });

  it('cacheNullValue false rejects empty values; true (the default) stores them', () => {
    given([created, settings({ cacheNullValue: false })])
      .when({ ...who, type: 'SetValue', key: 'k', value: bytes('') })
      .thenRejected('EMPTY_VALUE_REJECTED');
    given([created]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('') }).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes(''), expiresAt: 0 },
    ]);
  });

  it('deleting the cache resets its settings; flushing keeps them', () => {
    const changed = settings({ capacity: 5, ttlSeconds: 9 });
    expect([created, changed, { ...at(3), type: 'CacheDeleted' } as CacheEvent].reduce(evolve, initialState()).settings).toEqual(DEFAULT_SETTINGS);
    expect([created, changed, { ...at(3), type: 'Flushed' } as CacheEvent].reduce(evolve, initialState()).settings).toEqual({
      capacity: 5,
      ttlSeconds: 9,
      maxValueBytes: 0,
      cacheNullValue: true,
    });
  });
});
