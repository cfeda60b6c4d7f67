import { CacheEvent } from '../../src/domain';
import { at, given } from '../support/given-when-then';

const by = { by: 'tester' };
const value = (text: string) => Buffer.from(text);
const created = (description = '', ms = 1): CacheEvent => ({ ...at(ms), type: 'Created', description });
const set = (key: string, text: string, expiresAt = 0, ms = 2): CacheEvent => ({ ...at(ms), type: 'Set', key, value: value(text), expiresAt });

describe('decide: cache names', () => {
  it('creates a cache that never existed', () => {
    given([]).when({ type: 'CreateCache', description: 'first', ...by }, 10).then([{ ...at(10), type: 'Created', description: 'first' }]);
  });

  it('overwrites the description of a live cache, and does nothing when it is the same', () => {
    given([created('old')]).when({ type: 'CreateCache', description: 'new', ...by }, 10).then([{ ...at(10), type: 'DescriptionChanged', description: 'new' }]);
    given([created('same')]).when({ type: 'CreateCache', description: 'same', ...by }).thenNothing();
  });

  it('revives a deleted name', () => {
    given([created('x'), { ...at(3), type: 'CacheDeleted' }])
      .when({ type: 'CreateCache', description: 'again', ...by }, 10)
      .then([{ ...at(10), type: 'Created', description: 'again' }]);
  });

  it('changes a description only of a live cache', () => {
    given([]).when({ type: 'ChangeDescription', description: 'x', ...by }).thenRejected('CACHE_NOT_FOUND');
    given([created('a'), { ...at(3), type: 'CacheDeleted' }]).when({ type: 'ChangeDescription', description: 'x', ...by }).thenRejected('CACHE_NOT_FOUND');
    given([created('a')]).when({ type: 'ChangeDescription', description: 'b', ...by }, 5).then([{ ...at(5), type: 'DescriptionChanged', description: 'b' }]);
  });

  it('deletes a live cache with one event that removes all its keys', () => {
    const g = given([created(), set('a', '1'), set('b', '2')]);
    g.when({ type: 'DeleteCache', ...by }, 9).then([{ ...at(9), type: 'CacheDeleted' }]);
    given([]).when({ type: 'DeleteCache', ...by }).thenRejected('CACHE_NOT_FOUND');
  });

  it('flushes all keys with one event and keeps the name; unknown name is rejected', () => {
    given([created(), set('a', '1')]).when({ type: 'Flush', ...by }, 9).then([{ ...at(9), type: 'Flushed' }]);
    given([created()]).when({ type: 'Flush', ...by }).thenNothing();
    given([]).when({ type: 'Flush', ...by }).thenRejected('CACHE_NOT_FOUND');
  });
});

describe('decide: values', () => {
  it('a set on a name that was never created creates it', () => {
    given([]).when({ type: 'SetValue', key: 'k', value: value('v'), ...by }, 50).then([
      { ...at(50), type: 'Created', description: '' },
      { ...at(50), type: 'Set', key: 'k', value: value('v'), expiresAt: 0 },
    ]);
  });

  it('journals an absolute expiresAt from the TTL, so replay does not depend on the day', () => {
    given([created()]).when({ type: 'SetValue', key: 'k', value: value('v'), ttlSeconds: 30, ...by }, 1_000).then([
      { ...at(1_000), type: 'Set', key: 'k', value: value('v'), expiresAt: 31_000 },
    ]);
  });

  it('ttl 0 means no expiry; negative or fractional TTLs are rejected', () => {
    given([created()]).when({ type: 'SetValue', key: 'k', value: value('v'), ttlSeconds: 0, ...by }, 7).then([{ ...at(7), type: 'Set', key: 'k', value: value('v'), expiresAt: 0 }]);
    given([created()]).when({ type: 'SetValue', key: 'k', value: value('v'), ttlSeconds: -1, ...by }).thenRejected('INVALID_ARGUMENT');
    given([created()]).when({ type: 'SetValue', key: 'k', value: value('v'), ttlSeconds: 1.5, ...by }).thenRejected('INVALID_ARGUMENT');
  });

  it('refuses a write that would exceed the quota, counting only the growth', () => {
    const g = given([created(), set('k', '12345')]);
    g.when({ type: 'SetValue', key: 'k', value: value('1234567'), quotaRemaining: 1, ...by }).thenRejected('QUOTA_EXCEEDED');
    g.when({ type: 'SetValue', key: 'k', value: value('123456'), quotaRemaining: 1, ...by }, 4).then([{ ...at(4), type: 'Set', key: 'k', value: value('123456'), expiresAt: 0 }]);
    g.when({ type: 'SetValue', key: 'other', value: value('xy'), quotaRemaining: 1, ...by }).thenRejected('QUOTA_EXCEEDED');
  });

  it('deletes a live key; a missing or expired key is KEY_NOT_FOUND', () => {
    given([created(), set('k', 'v')]).when({ type: 'DeleteKey', key: 'k', ...by }, 3).then([{ ...at(3), type: 'Deleted', key: 'k' }]);
    given([created()]).when({ type: 'DeleteKey', key: 'k', ...by }).thenRejected('KEY_NOT_FOUND');
    given([created(), set('k', 'v', 100)]).when({ type: 'DeleteKey', key: 'k', ...by }, 100).thenRejected('KEY_NOT_FOUND');
    given([]).when({ type: 'DeleteKey', key: 'k', ...by }).thenRejected('CACHE_NOT_FOUND');
  });

  it('expires a key only once its expiresAt has passed, and ignores stale timers', () => {
    const g = given([created(), set('k', 'v', 100)]);
    g.when({ type: 'ExpireKey', key: 'k', by: 'system' }, 99).thenNothing();
    g.when({ type: 'ExpireKey', key: 'k', by: 'system' }, 100).then([{ at: 100, by: 'system', device: null, type: 'Expired', key: 'k' }]);
    given([created(), set('k', 'v', 100), set('k', 'v2', 0, 50)]).when({ type: 'ExpireKey', key: 'k', by: 'system' }, 200).thenNothing();
    given([created()]).when({ type: 'ExpireKey', key: 'gone', by: 'system' }, 200).thenNothing();
  });

  it('records the device the request came from', () => {
    given([created()]).when({ type: 'Flush', by: 'ann', device: 'phone-1' }, 5).thenNothing();
    given([created(), set('a', '1')]).when({ type: 'Flush', by: 'ann', device: 'phone-1' }, 5).then([{ at: 5, by: 'ann', device: 'phone-1', type: 'Flushed' }]);
  });
});

describe('evolve', () => {
  it('keeps byte accounting exact through sets, overwrites, deletes, expiries and flushes', () => {
    const g = given([created(), set('a', '123'), set('b', '45'), set('a', '1'), { ...at(5), type: 'Deleted', key: 'b' }]);
    expect(g.state.bytes).toBe(1);
    expect(g.state.version).toBe(5);
    expect(g.state.entries.get('a')?.version).toBe(4);
    const flushed = given([created(), set('a', '123'), { ...at(5), type: 'Flushed' }]);
    expect(flushed.state.bytes).toBe(0);
    expect(flushed.state.entries.size).toBe(0);
    expect(flushed.state.status).toBe('live');
  });
});
