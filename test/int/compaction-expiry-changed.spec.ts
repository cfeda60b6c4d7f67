import { CacheEvent, evolve, initialState } from '../../src/domain';
import { compactEntity } from '../../src/journal/compaction';
import { MemoryBackend } from '../../src/journal/memory/memory-backend';

const meta = { at: 1, by: 't', device: null };
const set = (key: string, text: string, expiresAt = 0): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(text), expiresAt });
const changed = (key: string, expiresAt: number): CacheEvent => ({ ...meta, type: 'ExpiryChanged', key, expiresAt });

describe('compaction and ExpiryChanged', () => {
  it("keeps the Set that holds an entry's value when the entry's last event is an ExpiryChanged, so a rebuild of the read models still lists it", async () => {
    const backend = new MemoryBackend();
    await backend.open();
    try {
      const ref = { org: 'acme', name: 'c' };
      const events: CacheEvent[] = [
        { ...meta, type: 'Created', description: '' }, // 1
        set('a', 'old'), // 2: overwritten below, droppable
        set('a', 'value-a', 5_000), // 3: a's value
        changed('a', 6_000), // 4: droppable (a later one wins)
        changed('a', 0), // 5: a's version
        set('b', 'value-b'), // 6: b's value and version
        set('c', 'x'), // 7
        { ...meta, type: 'Deleted', key: 'c' }, // 8: the cut
      ];
      await backend.journal.append(ref, 0, events);
      const state = events.reduce(evolve, initialState());
      await backend.snapshots.save(ref, 8, state);
      const result = await compactEntity(backend.journal, backend.snapshots, ref, { kind: 'snapshots', count: 1 }, 10);
      expect(result.throughSeq).toBe(8);
      const kept = [];
      for await (const { seq } of backend.journal.replay(ref, 1)) kept.push(seq);
      expect(kept).toEqual([1, 3, 5, 6, 8]);
      // The read models rebuilt from what is left list a and b with their expiries and bytes.
      const maintained = await backend.inline.dump();
      await backend.inline.rebuild();
      expect(await backend.inline.dump()).toEqual(maintained);
      expect(await backend.inline.listKeys(ref, 100_000)).toEqual(['a', 'b']);
      expect(await backend.inline.orgBytes('acme')).toBe('value-a'.length + 'value-b'.length);
    } finally {
      await backend.close();
    }
  });
});
