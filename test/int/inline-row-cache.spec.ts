import { CacheEvent } from '../../src/domain';
import { EntityRef } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

const meta = { at: 1, by: 't', device: null };
const created: CacheEvent = { ...meta, type: 'Created', description: '' };
const set = (key: string, bytes: number, expiresAt = 0): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.alloc(bytes, 'v'), expiresAt });
const deleted = (key: string): CacheEvent => ({ ...meta, type: 'Deleted', key });

/**
 * The LevelDB journal keeps recently written key rows in memory (INLINE_ROW_CACHE_ENTRIES) so
 * an overwrite's group commit needs no read first. Whatever the cache knows or forgets, the
 * rows written must equal those a rebuild from the log computes.
 */
describe('inline key-row cache of the LevelDB journal', () => {
  const ref: EntityRef = { org: 'acme', name: 'c' };
  let dir: ReturnType<typeof tempDir>;
  let backend: LevelDbBackend;
  let seq = 0;

  const open = async (rowCacheEntries?: number) => {
    backend = new LevelDbBackend(dir.path, { sync: 'none', rowCacheEntries });
    await backend.open();
    seq = await backend.journal.highestSeq(ref);
  };
  const append = async (...events: CacheEvent[]) => {
    await backend.journal.append(ref, seq, events);
    seq += events.length;
  };
  /** Writes that overwrite, delete and re-add keys, in several group commits. */
  const workload = async () => {
    await append(created, set('k1', 10), set('k2', 20), set('k3', 30));
    await append(set('k4', 40), set('k5', 50));
    await append(set('k1', 11, 9_000_000_000_000), deleted('k2'));
    await append(set('k2', 22), set('k3', 33, 8_000_000_000_000));
    await append(set('k1', 12), set('k5', 55));
  };
  const expectRowsEqualRebuild = async () => {
    const maintained = await backend.inline.dump();
    await backend.inline.rebuild();
    expect(await backend.inline.dump()).toEqual(maintained);
  };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await backend.close();
    dir.cleanup();
  });

  it('knows the rows it wrote, and the rows stay equal to a rebuild', async () => {
    await open();
    await workload();
    expect(backend.inline.cachedKeyRows).toBe(5);
    expect(await backend.inline.orgBytes('acme')).toBe(12 + 22 + 33 + 40 + 55);
    await expectRowsEqualRebuild();
  });

  it('holds at most INLINE_ROW_CACHE_ENTRIES rows; the rows it dropped are read again', async () => {
    await open(2);
    await workload();
    expect(backend.inline.cachedKeyRows).toBe(2);
    expect(await backend.inline.orgBytes('acme')).toBe(12 + 22 + 33 + 40 + 55);
    await expectRowsEqualRebuild();
  });

  it('keeps nothing with 0, and the rows are still exact', async () => {
    await open(0);
    await workload();
    expect(backend.inline.cachedKeyRows).toBe(0);
    expect(await backend.inline.orgBytes('acme')).toBe(12 + 22 + 33 + 40 + 55);
    await expectRowsEqualRebuild();
  });

  it('forgets the rows of events a repair cut off the log', async () => {
    await open();
    await append(created, set('k1', 100));
    // The Set at offset 2 is cut (as REPAIR=true does at a damaged record), the rows rebuilt.
    await backend.repair.truncateFrom(2);
    await backend.journal.reload();
    await backend.inline.rebuild();
    seq = await backend.journal.highestSeq(ref);
    expect(seq).toBe(1);
    await append(set('k1', 50));
    // A stale cached row (k1, 100 B) would have made this 0 (50 - 100, floored).
    expect(await backend.inline.orgBytes('acme')).toBe(50);
    await expectRowsEqualRebuild();
  });
});
