import { CacheEvent, evolve, initialState } from '../../src/domain';
import { Envelope, Journal } from '../../src/journal/journal';
import { encodeEntityId, withSeq } from '../../src/journal/keys';
import { Storage } from '../../src/journal/storage';
import { tempDir } from '../support/temp-dir';

const meta = { at: 1, by: 't', device: null };
const ref = { org: 'acme', name: 'c1' };
const id = encodeEntityId(ref);
const set = (key: string, text: string): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(text), expiresAt: 0 });

async function open(path: string) {
  const storage = new Storage(path);
  await storage.open();
  const journal = new Journal(storage, 'always');
  await journal.open();
  return { storage, journal };
}

async function collect(journal: Journal, entityId = id, from = 1) {
  const out: Array<{ seq: number; event: CacheEvent }> = [];
  for await (const record of journal.replay(entityId, from)) out.push(record);
  return out;
}

describe('Journal over real LevelDB', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());

  it('appends with per-entity sequence numbers and global offsets, and replays them after a reopen', async () => {
    const first = await open(dir.path);
    const envelopes = await first.journal.append(ref, id, 1, [{ ...meta, type: 'Created', description: 'd' }, set('k', 'v')]);
    expect(envelopes.map((e) => [e.seq, e.offset])).toEqual([[1, 1], [2, 2]]);
    await first.storage.close();

    const second = await open(dir.path);
    expect(second.journal.highestOffset).toBe(2);
    expect(await second.journal.highestSeq(id)).toBe(2);
    const replayed = await collect(second.journal);
    expect(replayed.map((r) => r.seq)).toEqual([1, 2]);
    const last = replayed[1].event;
    expect(last.type === 'Set' && Buffer.from(last.value).toString()).toBe('v');
    const next = await second.journal.append(ref, id, 3, [set('k', 'w')]);
    expect(next[0].offset).toBe(3);
    await second.storage.close();
  });

  it('stores values as raw bytes, not base64', async () => {
    const { storage, journal } = await open(dir.path);
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    await journal.append(ref, id, 1, [{ ...meta, type: 'Set', key: 'bin', value: bytes, expiresAt: 0 }]);
    const raw = await storage.journal.get(withSeq(id, 1));
    expect(raw!.includes(bytes)).toBe(true);
    expect(raw!.includes(Buffer.from(bytes.toString('base64')))).toBe(false);
    await storage.close();
  });

  it('group-commits appends made together into one batch with gapless offsets, published in order', async () => {
    const { storage, journal } = await open(dir.path);
    const published: Envelope[][] = [];
    journal.committed$.subscribe((batch) => published.push([...batch]));
    const refs = Array.from({ length: 20 }, (_, i) => ({ org: 'acme', name: `c${i}` }));
    await Promise.all(refs.map((r) => journal.append(r, encodeEntityId(r), 1, [set('k', r.name)])));
    expect(published).toHaveLength(1);
    expect(published[0].map((e) => e.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await storage.close();
  });

  it('reads the global log in offset order from any offset', async () => {
    const { storage, journal } = await open(dir.path);
    const other = { org: 'other', name: 'c1' };
    await journal.append(ref, id, 1, [set('a', '1')]);
    await journal.append(other, encodeEntityId(other), 1, [set('b', '2')]);
    await journal.append(ref, id, 2, [set('c', '3')]);
    const all: Envelope[] = [];
    for await (const chunk of journal.readGlobal(1)) all.push(...chunk);
    expect(all.map((e) => [e.offset, e.ref.org, e.seq])).toEqual([
      [2, 'other', 1],
      [3, 'acme', 2],
    ]);
    await storage.close();
  });

  it('recovers from the latest snapshot plus the tail, equal to a full replay', async () => {
    const { storage, journal } = await open(dir.path);
    const events: CacheEvent[] = [{ ...meta, type: 'Created', description: '' }];
    for (let i = 0; i < 50; i++) events.push(set(`k${i % 7}`, `v${i}`));
    await journal.append(ref, id, 1, events.slice(0, 30));
    await journal.saveSnapshot(id, 30, events.slice(0, 30).reduce(evolve, initialState()));
    await journal.append(ref, id, 31, events.slice(30));

    const snapshot = await journal.loadSnapshot(id);
    expect(snapshot?.seq).toBe(30);
    const tail = await collect(journal, id, 31);
    expect(tail.map((r) => r.seq)).toEqual(Array.from({ length: 21 }, (_, i) => 31 + i));
    const fromSnapshot = tail.reduce((s, r) => evolve(s, r.event), snapshot!.state);
    const full = (await collect(journal)).reduce((s, r) => evolve(s, r.event), initialState());
    expect([...fromSnapshot.entries.entries()]).toEqual([...full.entries.entries()]);
    expect(fromSnapshot.bytes).toBe(full.bytes);
    expect(fromSnapshot.version).toBe(full.version);
    await storage.close();
  });

  it('skips a corrupt snapshot loudly and falls back to an older one or to full replay', async () => {
    const { storage, journal } = await open(dir.path);
    await journal.append(ref, id, 1, [{ ...meta, type: 'Created', description: '' }, set('a', '1')]);
    await journal.saveSnapshot(id, 2, [{ ...meta, type: 'Created', description: '' } as CacheEvent, set('a', '1')].reduce(evolve, initialState()));
    await storage.snapshots.put(withSeq(id, 2), Buffer.from('not a snapshot'));
    const warn = jest.spyOn(require('@nestjs/common').Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(await journal.loadSnapshot(id)).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('unreadable'));
    warn.mockRestore();
    await storage.close();
  });

  it('keeps only the two newest snapshots of an entity', async () => {
    const { storage, journal } = await open(dir.path);
    for (const seq of [10, 20, 30]) await journal.saveSnapshot(id, seq, initialState());
    const seqs: number[] = [];
    for await (const key of storage.snapshots.keys()) seqs.push(key.readUInt32BE(key.length - 4));
    expect(seqs).toEqual([20, 30]);
    await storage.close();
  });

  it('keeps as many snapshots as configured (SNAPSHOTS_KEPT)', async () => {
    const storage = new Storage(dir.path);
    await storage.open();
    const journal = new Journal(storage, 'always', 3);
    for (const seq of [10, 20, 30, 40]) await journal.saveSnapshot(id, seq, initialState());
    const seqs: number[] = [];
    for await (const key of storage.snapshots.keys()) seqs.push(key.readUInt32BE(key.length - 4));
    expect(seqs).toEqual([20, 30, 40]);
    expect((await journal.loadSnapshot(id, 25))?.seq).toBe(20);
    await storage.close();
  });

  it('rejects every append of a batch when the write fails, and burns no entity sequence', async () => {
    const { storage, journal } = await open(dir.path);
    await storage.db.close();
    await expect(journal.append(ref, id, 1, [set('a', '1')])).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
    const reopened = await open(dir.path);
    expect(reopened.journal.highestOffset).toBe(0);
    await reopened.journal.append(ref, id, 1, [set('a', '1')]);
    expect((await collect(reopened.journal)).map((r) => r.seq)).toEqual([1]);
    await reopened.storage.close();
  });
});
