import { CacheEvent, evolve, initialState } from '../../src/domain';
import { compactEntity } from '../../src/journal/compaction';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

const meta = { at: 1, by: 't', device: null };
const set = (key: string, text: string): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(text), expiresAt: 0 });

/**
 * A crash during compaction left the compaction marked (history through the cut may be
 * incomplete) but its events never dropped: the next compaction saw the mark and said
 * "already compacted". The drop now keeps a second mark until it is done, and the next
 * compaction finishes it, also after a restart, without a newer snapshot.
 */
describe('compaction resumes after a crash part-way', () => {
  const ref = { org: 'acme', name: 'c' };
  const policy = { kind: 'snapshots' as const, count: 1 };

  async function seeded(path: string, overwrites: number) {
    const backend = new LevelDbBackend(path, { sync: 'none' });
    await backend.open();
    const events: CacheEvent[] = [{ ...meta, type: 'Created', description: '' }];
    for (let i = 0; i < overwrites; i++) events.push(set(`k${i % 10}`, `v${i}`));
    for (let from = 0; from < events.length; from += 1000) await backend.journal.append(ref, from, events.slice(from, from + 1000));
    await backend.snapshots.save(ref, events.length, events.reduce(evolve, initialState()));
    return { backend, cut: events.length };
  }
  const seqsOf = async (backend: LevelDbBackend) => {
    const seqs: number[] = [];
    for await (const { seq } of backend.journal.replay(ref, 1)) seqs.push(seq);
    return seqs;
  };

  it('the next compaction (after a restart, with no newer snapshot) drops what the crashed one did not', async () => {
    const dir = tempDir();
    try {
      const { backend, cut } = await seeded(dir.path, 5000);
      // The process dies after the first batch of drops (1000 events): a progress callback that throws stands in for it.
      const crash = new Error('killed');
      await expect(
        compactEntity(backend.journal, backend.snapshots, ref, policy, 10, () => {
          throw crash;
        }),
      ).rejects.toBe(crash);
      expect(await backend.journal.compactedThrough(ref)).toBe(cut);
      expect(await backend.journal.unfinishedCompaction(ref)).toBe(cut);
      expect((await seqsOf(backend)).length).toBe(5001 - 1000);
      await backend.close();

      const reopened = new LevelDbBackend(dir.path, { sync: 'none' });
      await reopened.open();
      try {
        const result = await compactEntity(reopened.journal, reopened.snapshots, ref, policy, 10);
        expect(result).toMatchObject({ throughSeq: cut, dropped: 5001 - 1000 - 11 });
        // Created, each key's last Set (the last of them is the cut).
        expect(await seqsOf(reopened)).toEqual([1, ...Array.from({ length: 10 }, (_, i) => cut - 9 + i)]);
        expect(await reopened.journal.unfinishedCompaction(ref)).toBe(0);
        expect((await compactEntity(reopened.journal, reopened.snapshots, ref, policy, 10)).note).toMatch(/already compacted/);
        // The read models rebuilt from what is left equal the maintained ones.
        const maintained = await reopened.inline.dump();
        await reopened.inline.rebuild();
        expect(await reopened.inline.dump()).toEqual(maintained);
      } finally {
        await reopened.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('a later compaction to a newer cut finishes the unfinished range too', async () => {
    const dir = tempDir();
    const { backend, cut } = await seeded(dir.path, 3000);
    try {
      await expect(
        compactEntity(backend.journal, backend.snapshots, ref, policy, 10, () => {
          throw new Error('killed');
        }),
      ).rejects.toThrow('killed');
      const more: CacheEvent[] = Array.from({ length: 100 }, (_, i) => set(`k${i % 10}`, `w${i}`));
      await backend.journal.append(ref, cut, more);
      const state = more.reduce(evolve, (await backend.snapshots.load(ref, cut))!.state);
      await backend.snapshots.save(ref, cut + 100, state);
      const result = await compactEntity(backend.journal, backend.snapshots, ref, policy, 10);
      expect(result.throughSeq).toBe(cut + 100);
      expect(await seqsOf(backend)).toEqual([1, ...Array.from({ length: 10 }, (_, i) => cut + 91 + i)]);
      expect(await backend.journal.unfinishedCompaction(ref)).toBe(0);
    } finally {
      await backend.close();
      dir.cleanup();
    }
  });
});
