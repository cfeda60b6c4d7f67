import { CacheEvent } from '../../src/domain';
import { at, given } from '../support/given-when-then';

const bytes = (text: string) => Buffer.from(text);
const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const setK: CacheEvent = { ...at(2), type: 'Set', key: 'k', value: bytes('v1'), expiresAt: 0 };
const who = { by: 'tester' };

describe('decide: add-only, replace-only and compare-and-set writes', () => {
  it('add stores a key that is absent', () => {
    given([created]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), mode: 'add' }).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('a'), expiresAt: 0 },
    ]);
  });

  it('add is rejected with KEY_EXISTS when the key is there', () => {
    given([created, setK]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), mode: 'add' }).thenRejected('KEY_EXISTS');
  });

  it('add stores over an entry that has expired but is not journaled as expired yet', () => {
    const expiring: CacheEvent = { ...at(2), type: 'Set', key: 'k', value: bytes('old'), expiresAt: 500 };
    given([created, expiring]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('new'), mode: 'add' }, 1_000).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('new'), expiresAt: 0 },
    ]);
  });

  it('add on a missing cache creates it', () => {
    given([]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), mode: 'add' }).then([
      { ...at(1_000), type: 'Created', description: '' },
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('a'), expiresAt: 0 },
    ]);
  });

  it('replace is rejected with KEY_NOT_FOUND when the key is absent, and stores when present', () => {
    given([created]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), mode: 'replace' }).thenRejected('KEY_NOT_FOUND');
    given([]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), mode: 'replace' }).thenRejected('KEY_NOT_FOUND');
    given([created, setK]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('b'), mode: 'replace' }).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('b'), expiresAt: 0 },
    ]);
  });

  it('cas stores when the version matches the sequence number of the last write of the key', () => {
    const g = given([created, setK]);
    expect(g.state.entries.get('k')?.version).toBe(2);
    g.when({ ...who, type: 'SetValue', key: 'k', value: bytes('b'), ifVersion: 2 }).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('b'), expiresAt: 0 },
    ]);
  });

  it('cas is rejected with CAS_MISMATCH for another version and KEY_NOT_FOUND for a missing key', () => {
    given([created, setK]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('b'), ifVersion: 1 }).thenRejected('CAS_MISMATCH');
    given([created]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('b'), ifVersion: 2 }).thenRejected('KEY_NOT_FOUND');
  });

  it('a later write changes the version, so an old cas no longer matches', () => {
    const again: CacheEvent = { ...at(3), type: 'Set', key: 'k', value: bytes('v2'), expiresAt: 0 };
    const g = given([created, setK, again]);
    expect(g.state.entries.get('k')?.version).toBe(3);
    g.when({ ...who, type: 'SetValue', key: 'k', value: bytes('b'), ifVersion: 2 }).thenRejected('CAS_MISMATCH');
  });

  it('requireCache rejects a write to a missing or deleted cache instead of creating it', () => {
    given([]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), requireCache: true }).thenRejected('CACHE_NOT_FOUND');
    given([created, { ...at(3), type: 'CacheDeleted' }])
      .when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), requireCache: true })
      .thenRejected('CACHE_NOT_FOUND');
    given([created]).when({ ...who, type: 'SetValue', key: 'k', value: bytes('a'), requireCache: true }).then([
      { ...at(1_000), type: 'Set', key: 'k', value: bytes('a'), expiresAt: 0 },
    ]);
  });
});
