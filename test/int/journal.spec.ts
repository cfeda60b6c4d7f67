import { CacheEvent, evolve, initialState } from '../../src/domain';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { encodeEntityId, withSeq } from '../../src/journal/keys';
import { tempDir } from '../support/temp-dir';

/** What only the LevelDB journal does (the shared behaviour is in test/contract). */
const meta = { at: 1, by: 't', device: null };
const ref = { org: 'acme', name: 'c1' };
const id = encodeEntityId(ref);
const set = (key: string, text: string): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(text), expiresAt: 0 });

async function open(path: string, snapshotsKept?: number) {
  const backend = new LevelDbBackend(path, { sync: 'always', snapshotsKept });
  await backend.open();
  return backend;
}

describe('the LevelDB journal', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());

  it('stores values as raw bytes, not base64', async () => {
    const backend = await open(dir.path);
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    await backend.journal.append(ref, 0, [{ ...meta, type: 'Set', key: 'bin', value: bytes, expiresAt: 0 }]);
    const raw = await backend.storage.journal.get(withSeq(id, 1));
    expect(raw!.includes(bytes)).toBe(true);
    expect(raw!.includes(Buffer.from(bytes.toString('base64')))).toBe(false);
    await backend.close();
  });

  it('group-commits appends made together into one batch, published to followers as one', async () => {
    const backend = await open(dir.path);
    const published: number[][] = [];
    const subscription = backend.journal.follow(0).subscribe((batch) => published.push(batch.map((e) => e.offset)));
    const refs = Array.from({ length: 20 }, (_, i) => ({ org: 'acme', name: `c${i}` }));
    // (An entity's first append in a process looks its seq up on disk first.)
    for (const r of refs) await backend.journal.append(r, 0, [set('k', 'first')]);
    published.length = 0;
    await Promise.all(refs.map((r) => backend.journal.append(r, 1, [set('k', r.name)])));
    subscription.unsubscribe();
    expect(published).toEqual([Array.from({ length: 20 }, (_, i) => i + 21)]);
    await backend.close();
  });

  it('writes event offsets and inline rows in the events own batch, and builds them for a log written before that', async () => {
    const backend = await open(dir.path);
    await backend.journal.append(ref, 0, [set('a', '1'), set('b', '22')]);
    expect(await backend.journal.offsetsOf(ref, [1, 2])).toEqual([1, 2]);
    expect(await backend.inline.orgBytes('acme')).toBe(3);
    // A data directory from before the inline rows: none of them, no flag.
    for (const space of [backend.storage.eventOffsets, backend.storage.listing, backend.storage.orgBytes]) await space.clear();
    await backend.storage.meta.del(Buffer.from('inline-read-models'));
    await backend.close();
    const reopened = await open(dir.path);
    expect(await reopened.journal.offsetsOf(ref, [1, 2])).toEqual([1, 2]);
    expect(await reopened.inline.listKeys(ref, 0)).toEqual(['a', 'b']);
    expect(await reopened.inline.orgBytes('acme')).toBe(3);
    await reopened.close();
  });

  it('skips a corrupt snapshot loudly and falls back to an older one or to full replay', async () => {
    const backend = await open(dir.path);
    await backend.journal.append(ref, 0, [{ ...meta, type: 'Created', description: '' }, set('a', '1')]);
    await backend.snapshots.save(ref, 2, [{ ...meta, type: 'Created', description: '' } as CacheEvent, set('a', '1')].reduce(evolve, initialState()));
    await backend.storage.snapshots.put(withSeq(id, 2), Buffer.from('not a snapshot'));
    const warn = jest.spyOn(require('@nestjs/common').Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(await backend.snapshots.load(ref)).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('unreadable'));
    warn.mockRestore();
    await backend.close();
  });

  it('stores a large snapshot in 1 MiB chunks apart from the snapshot headers, and drops the chunks with the snapshot', async () => {
    const backend = await open(dir.path);
    const big = (fill: number) => {
      let state = initialState();
      for (let i = 0; i < 5; i++) state = evolve(state, { ...meta, type: 'Set', key: `k${i}`, value: Buffer.alloc(600 * 1024, fill + i), expiresAt: 0 });
      return state;
    };
    for (const seq of [5, 10, 15]) await backend.snapshots.save(ref, seq, big(seq));
    const loaded = await backend.snapshots.load(ref);
    expect(loaded?.seq).toBe(15);
    expect(Buffer.from(loaded!.state.entries.get('k4')!.value).equals(Buffer.alloc(600 * 1024, 19))).toBe(true);
    expect((await backend.snapshots.load(ref, 12))?.seq).toBe(10);
    let headers = 0;
    for await (const [, value] of backend.storage.snapshots.iterator()) {
      headers++;
      expect(value.length).toBeLessThan(100); // headers only: the bytes are in the chunks
    }
    expect(headers).toBe(2);
    // One key read alone from the chunks (its value spans two of them), checked as a whole.
    const one = await backend.snapshots.load(ref, 15, Infinity, new Set(['k3']));
    expect([...one!.state.entries.keys()]).toStrictEqual(['k3']);
    expect(Buffer.from(one!.state.entries.get('k3')!.value).equals(Buffer.alloc(600 * 1024, 18))).toBe(true);
    // The checksum the reader computes chunk by chunk catches a byte changed in any chunk.
    for (const chunk of [0, 1, 2]) {
      const chunkKey = Buffer.concat([withSeq(id, 15), Buffer.from([0, 0, 0, chunk])]);
      const intact = (await backend.storage.snapshotChunks.get(chunkKey))!;
      const damaged = Buffer.from(intact);
      damaged[chunk === 0 ? 7 : damaged.length >> 1] ^= 1;
      await backend.storage.snapshotChunks.put(chunkKey, damaged);
      const warned = jest.spyOn(require('@nestjs/common').Logger.prototype, 'warn').mockImplementation(() => undefined);
      expect((await backend.snapshots.load(ref))?.seq).toBe(10);
      expect((await backend.snapshots.load(ref, 15, Infinity, new Set(['k0'])))?.seq).toBe(10);
      expect(warned).toHaveBeenCalledWith(expect.stringContaining('checksum mismatch'));
      warned.mockRestore();
      await backend.storage.snapshotChunks.put(chunkKey, intact);
    }
    expect((await backend.snapshots.load(ref))?.seq).toBe(15);
    let chunks = 0;
    for await (const _ of backend.storage.snapshotChunks.keys()) chunks++;
    expect(chunks).toBe(2 * 3); // two snapshots kept, 3 MB each in 1 MiB chunks
    // A missing chunk makes the snapshot unreadable: loudly skipped, the older one is used.
    await backend.storage.snapshotChunks.del(Buffer.concat([withSeq(id, 15), Buffer.from([0, 0, 0, 1])]));
    const warn = jest.spyOn(require('@nestjs/common').Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect((await backend.snapshots.load(ref))?.seq).toBe(10);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('chunk 1 of 3 is missing'));
    warn.mockRestore();
    await backend.close();
  });

  it('keeps as many snapshots as configured (SNAPSHOTS_KEPT)', async () => {
    const backend = await open(dir.path, 3);
    for (const seq of [10, 20, 30, 40]) await backend.snapshots.save(ref, seq, initialState());
    const seqs: number[] = [];
    for await (const key of backend.storage.snapshots.keys()) seqs.push(key.readUInt32BE(key.length - 4));
    expect(seqs).toEqual([20, 30, 40]);
    expect((await backend.snapshots.load(ref, 25))?.seq).toBe(20);
    await backend.close();
  });

  it('rejects every append of a batch when the write fails, and burns no entity sequence', async () => {
    const backend = await open(dir.path);
    await backend.journal.highestSeq(ref);
    await backend.storage.db.close();
    await expect(backend.journal.append(ref, 0, [set('a', '1')])).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
    const reopened = await open(dir.path);
    expect(reopened.journal.highestOffset).toBe(0);
    await reopened.journal.append(ref, 0, [set('a', '1')]);
    const seqs: number[] = [];
    for await (const { seq } of reopened.journal.replay(ref)) seqs.push(seq);
    expect(seqs).toEqual([1]);
    await reopened.close();
  });
});
