import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { CacheEvent, CacheState, evolve, initialState } from '../../src/domain';
import { Envelope, JournalRecord } from '../../src/journal/journal';
import { JournalBackend } from '../../src/journal/journal-backend';
import { KeyPage, KeyPageRequest } from '../../src/journal/inline-read-models';
import { EntityRef } from '../../src/journal/keys';

/**
 * One contract every journal implementation passes (the way emmett's event stores share
 * one suite). `open()` gives a fresh, opened backend; `reopen(backend)` closes it and opens
 * the same data again, or is absent for a journal that keeps nothing.
 */
export interface JournalFactory {
  /**
   * False for a journal whose global offsets increase but skip (NATS: a stream message holds
   * a group of events, see grouped-messages.ts); the suite then compares offsets by rank.
   */
  readonly gaplessOffsets?: boolean;
  open(): Promise<JournalBackend>;
  reopen?(backend: JournalBackend): Promise<JournalBackend>;
  dispose(backend: JournalBackend): Promise<void>;
}

const meta = (at = 1) => ({ at, by: 't', device: null });
const set = (key: string, text: string, at = 1): CacheEvent => ({ ...meta(at), type: 'Set', key, value: Buffer.from(text), expiresAt: 0 });
const created: CacheEvent = { ...meta(), type: 'Created', description: '' };
const valueOf = (event: CacheEvent) => (event.type === 'Set' ? Buffer.from(event.value).toString() : undefined);

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function readAll(backend: JournalBackend, after = 0): Promise<Envelope[]> {
  return (await all(backend.journal.read(after))).flat();
}

export function journalContract(name: string, factory: JournalFactory): void {
  describe(`journal contract: ${name}`, () => {
    let backend: JournalBackend;
    // Every offset an append gave in this test: `rank` numbers them 1, 2, … in log order, `at`
    // answers the offset of the n-th event, so offsets compare the same on every journal.
    let issued: number[] = [];
    const track = (b: JournalBackend): JournalBackend => {
      const append = b.journal.append.bind(b.journal);
      b.journal.append = async (...args) => {
        const envelopes = await append(...args);
        issued.push(...envelopes.map((e) => e.offset));
        return envelopes;
      };
      return b;
    };
    const ordered = () => [...issued].sort((a, b) => a - b);
    const rank = (offset: number | undefined) => (offset === undefined ? undefined : ordered().indexOf(offset) + 1 || NaN);
    const at = (n: number) => ordered()[n - 1];
    beforeEach(async () => {
      issued = [];
      backend = track(await factory.open());
    });
    afterEach(() => factory.dispose(backend));

    const ref: EntityRef = { org: 'acme', name: 'c1' };
    const other: EntityRef = { org: 'acme', name: 'c2' };

    it('appends with gapless per-entity seqs and global offsets, and replays them in order', async () => {
      const first = await backend.journal.append(ref, 0, [created, set('k', 'v')]);
      const second = await backend.journal.append(other, 0, [set('x', '1')]);
      const third = await backend.journal.append(ref, 2, [set('k', 'w')]);
      const envelopes = [...first, ...second, ...third];
      expect(envelopes.map((e) => [e.ref.name, e.seq, rank(e.offset)])).toEqual([
        ['c1', 1, 1],
        ['c1', 2, 2],
        ['c2', 1, 3],
        ['c1', 3, 4],
      ]);
      if (factory.gaplessOffsets !== false) expect(envelopes.map((e) => e.offset)).toEqual([1, 2, 3, 4]);
      expect(rank(backend.journal.highestOffset)).toBe(4);
      expect(await backend.journal.highestSeq(ref)).toBe(3);
      expect(await backend.journal.highestSeq({ org: 'acme', name: 'never' })).toBe(0);
      const replayed: JournalRecord[] = await all(backend.journal.replay(ref));
      expect(replayed.map((r) => [r.seq, r.event.type, valueOf(r.event)])).toEqual([
        [1, 'Created', undefined],
        [2, 'Set', 'v'],
        [3, 'Set', 'w'],
      ]);
      expect((await all(backend.journal.replay(ref, 2, 2))).map((r) => r.seq)).toEqual([2]);
      const visited: number[] = [];
      await backend.journal.forEachEvent(ref, 2, (seq) => visited.push(seq));
      expect(visited).toEqual([2, 3]);
      expect((await backend.journal.offsetsOf(ref, [1, 3, 9])).map(rank)).toEqual([1, 4, undefined]);
    });

    it('replays any range of a long log, interleaved with another cache, and catches up from the head it last wrote', async () => {
      // Long enough for every read path a journal has (NATS: direct gets for a few, a scan for many).
      let seq = 0;
      for (let i = 0; i < 80; i++) {
        await backend.journal.append(ref, seq, [set(`k${i % 7}`, `v${i}`)]);
        seq++;
        if (i % 3 === 0) await backend.journal.append(other, i / 3, [set('x', `o${i}`)]);
      }
      for (const [from, to] of [[1, 80], [1, 5], [40, 80], [75, 80], [79, 79], [80, 200], [81, 90]]) {
        const seqs = (await all(backend.journal.replay(ref, from, to))).map((r) => r.seq);
        expect(seqs).toEqual(Array.from({ length: Math.max(0, Math.min(to, 80) - from + 1) }, (_, i) => from + i));
      }
      // A catch-up: the cache's next events are read from just after the last one seen.
      await backend.journal.append(ref, 80, [set('k', 'late1'), set('k', 'late2')]);
      const visited: Array<[number, string | undefined]> = [];
      await backend.journal.forEachEvent(ref, 81, (s, event) => visited.push([s, valueOf(event)]));
      expect(visited).toEqual([
        [81, 'late1'],
        [82, 'late2'],
      ]);
      expect((await all(backend.journal.replay(other))).map((r) => valueOf(r.event))).toEqual(Array.from({ length: 27 }, (_, i) => `o${i * 3}`));
    });

    it('keeps tenants and names apart: no two (org, name) pairs share a log', async () => {
      const a = { org: 'a', name: 'bc' };
      const b = { org: 'ab', name: 'c' };
      await backend.journal.append(a, 0, [set('k', 'a')]);
      await backend.journal.append(b, 0, [set('k', 'b')]);
      expect((await all(backend.journal.replay(a))).map((r) => valueOf(r.event))).toEqual(['a']);
      expect((await all(backend.journal.replay(b))).map((r) => valueOf(r.event))).toEqual(['b']);
    });

    it('refuses an append at a different sequence with JOURNAL_SEQUENCE_CONFLICT, and writes nothing of it', async () => {
      await backend.journal.append(ref, 0, [created]);
      await expect(backend.journal.append(ref, 0, [set('k', 'stale')])).rejects.toMatchObject({ code: 'JOURNAL_SEQUENCE_CONFLICT', expectedSeq: 0, actualSeq: 1 });
      await expect(backend.journal.append(ref, 5, [set('k', 'ahead')])).rejects.toMatchObject({ code: 'JOURNAL_SEQUENCE_CONFLICT' });
      // Two writers racing from the same seq: exactly one wins.
      const results = await Promise.allSettled([backend.journal.append(ref, 1, [set('k', 'one')]), backend.journal.append(ref, 1, [set('k', 'two')])]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['JOURNAL_SEQUENCE_CONFLICT']);
      expect((await all(backend.journal.replay(ref))).map((r) => r.seq)).toEqual([1, 2]);
      expect(rank(backend.journal.highestOffset)).toBe(2);
      expect((await readAll(backend)).map((e) => rank(e.offset))).toEqual([1, 2]);
    });

    it('takes concurrent appends to many entities with gapless global offsets and per-entity order', async () => {
      const refs = Array.from({ length: 40 }, (_, i) => ({ org: `o${i % 3}`, name: `c${i}` }));
      for (let round = 0; round < 5; round++) {
        await Promise.all(refs.map((r) => backend.journal.append(r, round * 2, [set('k', `${r.name}:${round}`), set('j', String(round))])));
      }
      const log = await readAll(backend);
      expect(log.map((e) => rank(e.offset))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
      if (factory.gaplessOffsets !== false) expect(log.map((e) => e.offset)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
      for (const r of refs) {
        const seqs = log.filter((e) => e.ref.org === r.org && e.ref.name === r.name).map((e) => e.seq);
        expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      }
    });

    it('reads the global log from any offset', async () => {
      await backend.journal.append(ref, 0, [set('a', '1')]);
      await backend.journal.append(other, 0, [set('b', '2')]);
      await backend.journal.append(ref, 1, [set('c', '3')]);
      expect((await readAll(backend, at(1))).map((e) => [rank(e.offset), e.ref.name, e.seq])).toEqual([
        [2, 'c2', 1],
        [3, 'c1', 2],
      ]);
      expect(await readAll(backend, at(3))).toStrictEqual([]);
    });

    it('follow(): catches up, then goes live, with no loss and no duplicate at the hand-over', async () => {
      for (let i = 0; i < 30; i++) await backend.journal.append(ref, i, [set('k', String(i))]);
      const seen: number[] = [];
      const done = firstValueFrom(
        backend.journal.follow(at(10)).pipe(
          filter((batch) => {
            seen.push(...batch.map((e) => e.offset));
            return seen.length >= 70;
          }),
        ),
      );
      // Appends race the catch-up: some land before the log is read, some during, some after.
      const appends: Array<Promise<unknown>> = [];
      for (let i = 30; i < 80; i++) {
        appends.push(backend.journal.append(ref, i, [set('k', String(i))]));
        if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(appends);
      await done;
      expect(seen.map(rank)).toEqual(Array.from({ length: 70 }, (_, i) => i + 11));
    });

    it('follow() from the end gives only new events; several followers each get every event', async () => {
      await backend.journal.append(ref, 0, [set('a', '1')]);
      const first = firstValueFrom(backend.journal.follow(backend.journal.highestOffset).pipe(take(2), toArray()));
      const second = firstValueFrom(backend.journal.follow(0).pipe(filter((b) => b.some((e) => e.ref.name === other.name)), take(1)));
      await backend.journal.append(ref, 1, [set('b', '2')]);
      await backend.journal.append(other, 0, [set('c', '3')]);
      expect((await first).map((batch) => batch.map((e) => rank(e.offset)))).toEqual([[2], [3]]);
      expect((await second).map((e) => rank(e.offset))).toContain(3);
    });

    it('finds the seq at a time, the newest event at or before it', async () => {
      await backend.journal.append(ref, 0, [set('a', '1', 100), set('a', '2', 200), set('a', '3', 300)]);
      expect(await backend.journal.seqAtTime(ref, 50)).toBe(0);
      expect(await backend.journal.seqAtTime(ref, 200)).toBe(2);
      expect(await backend.journal.seqAtTime(ref, 250)).toBe(2);
      expect(await backend.journal.seqAtTime(ref, 10_000)).toBe(3);
      // A bound on the events scanned: the answer at 250 needs two.
      expect(await backend.journal.seqAtTime(ref, 250, 2)).toBe(2);
      await expect(backend.journal.seqAtTime(ref, 150, 2)).rejects.toMatchObject({ code: 'POINT_IN_TIME_TOO_COSTLY' });
    });

    it('drops events before a seq except the kept ones, remembers the mark, and follows without them', async () => {
      // One event per append: a journal that stores an append as one record drops whole records (see dropEvents).
      for (const [i, event] of [created, set('a', '1', 10), set('b', '2', 20), set('a', '3', 30), set('c', '4', 40)].entries()) await backend.journal.append(ref, i, [event]);
      await backend.journal.append(other, 0, [set('x', '1')]);
      const dropped = await backend.journal.dropEvents(ref, 5, new Set([1, 3, 4]));
      expect(dropped).toBe(1); // seq 2; seq 5 is not before the cut
      expect(await backend.journal.compactedThrough(ref)).toBe(4);
      expect(await backend.journal.compactedThrough(other)).toBe(0);
      expect((await all(backend.journal.replay(ref))).map((r) => r.seq)).toEqual([1, 3, 4, 5]);
      expect(await backend.journal.highestSeq(ref)).toBe(5);
      expect((await backend.journal.offsetsOf(ref, [2, 3])).map(rank)).toEqual([undefined, 3]);
      expect((await readAll(backend)).map((e) => rank(e.offset))).toEqual([1, 3, 4, 5, 6]);
      await expect(backend.journal.seqAtTime(ref, 15)).rejects.toMatchObject({ code: 'HISTORY_COMPACTED' }); // seq 2 is gone
      expect(await backend.journal.seqAtTime(ref, 35)).toBe(4);
      expect(await backend.journal.dropEvents(ref, 3, new Set())).toBe(0); // already compacted past it
      // Appends go on at the entity's seq.
      const [next] = await backend.journal.append(ref, 5, [set('d', '5')]);
      expect([next.seq, rank(next.offset)]).toEqual([6, 7]);
    });

    it('stores snapshots apart, loads the newest at or before a seq, and keeps the newest ones', async () => {
      const events: CacheEvent[] = [created];
      for (let i = 0; i < 12; i++) events.push(set(`k${i % 5}`, `v${i}`));
      await backend.journal.append(ref, 0, events);
      const stateAt = (seq: number): CacheState => events.slice(0, seq).reduce(evolve, initialState());
      const live = stateAt(4);
      await backend.snapshots.save(ref, 4, live);
      evolve(live, set('after', 'save')); // the store holds the state as it was at save
      await backend.snapshots.save(ref, 8, stateAt(8));
      await backend.snapshots.save(ref, 12, stateAt(12));
      expect(await backend.snapshots.seqs(ref)).toEqual([12, 8]); // two kept by default
      expect(await backend.snapshots.seqs(other)).toStrictEqual([]);
      const at10 = await backend.snapshots.load(ref, 10);
      expect(at10?.seq).toBe(8);
      expect([...at10!.state.entries.entries()].map(([k, e]) => [k, Buffer.from(e.value).toString()])).toEqual(
        [...stateAt(8).entries.entries()].map(([k, e]) => [k, Buffer.from(e.value).toString()]),
      );
      expect((await backend.snapshots.load(ref))?.seq).toBe(12);
      expect(await backend.snapshots.load(ref, 3)).toBeUndefined();
      expect(await backend.snapshots.load(other)).toBeUndefined();
    });

    it('keeps read-model rows and writes several spaces at once', async () => {
      const store = backend.readModels;
      await store.write([
        { type: 'put', space: 'projection:t', key: Buffer.from('b'), value: Buffer.from('2') },
        { type: 'put', space: 'projection:t', key: Buffer.from('a'), value: Buffer.from('1') },
        { type: 'put', space: 'offsets', key: Buffer.from('t'), value: Buffer.from('9') },
      ]);
      expect((await all(store.entries('projection:t'))).map(([k, v]) => `${k}=${v}`)).toEqual(['a=1', 'b=2']);
      expect((await all(store.entries('projection:t', { gt: Buffer.from('a') }))).map(([k]) => k.toString())).toEqual(['b']);
      expect(await store.getMany('projection:t', [Buffer.from('a'), Buffer.from('z')])).toEqual([Buffer.from('1'), undefined]);
      await store.clear('projection:t');
      expect(await all(store.entries('projection:t'))).toStrictEqual([]);
      expect(await store.get('offsets', Buffer.from('t'))).toEqual(Buffer.from('9'));
    });

    it('keeps the inline read models exact as each append resolves: keys, names, org bytes, due expiries', async () => {
      const b = { org: 'acme', name: 'b' };
      const z = { org: 'zeta', name: 'a' };
      const expiring = (key: string, text: string, expiresAt: number): CacheEvent => ({ ...meta(), type: 'Set', key, value: Buffer.from(text), expiresAt });
      await backend.journal.append(ref, 0, [{ ...meta(), type: 'Created', description: 'first' }, set('k1', 'aaaa'), set('k2', 'bb'), expiring('old', 'x', 500)]);
      await backend.journal.append(b, 0, [created, set('x', '123456')]);
      await backend.journal.append(z, 0, [created, set('secret', 'zz')]);
      expect(await backend.inline.orgBytes('acme')).toBe(4 + 2 + 1 + 6);
      await Promise.all([
        backend.journal.append(ref, 4, [set('k1', 'a'), { ...meta(), type: 'Deleted', key: 'k2' }]), // overwrite shrinks, delete frees
        backend.journal.append(b, 2, [{ ...meta(), type: 'Flushed' }, set('y', 'yy')]),
        backend.journal.append(z, 2, [{ ...meta(), type: 'CacheDeleted' }]),
      ]);
      expect(await backend.inline.listKeys(ref, 0)).toEqual(['k1', 'old']);
      expect(await backend.inline.listKeys(ref, 1000)).toEqual(['k1']); // expired is never listed
      expect(await backend.inline.listKeys(b, 0)).toEqual(['y']);
      expect(await backend.inline.listKeys(z, 0)).toStrictEqual([]);
      expect(await backend.inline.orgBytes('acme')).toBe(1 + 1 + 2);
      expect(await backend.inline.orgBytes('zeta')).toBe(0);
      expect(await backend.inline.listCaches('acme')).toEqual([
        { cacheName: 'b', description: '', deleted: false },
        { cacheName: 'c1', description: 'first', deleted: false },
      ]);
      expect(await backend.inline.listCaches('zeta')).toStrictEqual([]);
      expect(await backend.inline.listCaches('zeta', true)).toEqual([{ cacheName: 'a', description: '', deleted: true }]);
      expect(await backend.inline.dueExpiries(499, 10)).toStrictEqual([]);
      expect(await backend.inline.dueExpiries(500, 10)).toEqual([{ ref, key: 'old', expiresAt: 500 }]);
      await backend.journal.append(ref, 6, [{ ...meta(), type: 'Expired', key: 'old' }]);
      expect(await backend.inline.dueExpiries(10_000, 10)).toStrictEqual([]);
      expect(await backend.inline.orgBytes('acme')).toBe(1 + 2);
    });

    it('pages the key listing: byte order, bounded rows looked at, a prefix seek, continuing after the last key, expired keys skipped', async () => {
      const expiring = (key: string, expiresAt: number): CacheEvent => ({ ...meta(), type: 'Set', key, value: Buffer.from('v'), expiresAt });
      await backend.journal.append(ref, 0, [created, set('b:2', 'x'), set('a:1', 'x'), set('b:10', 'x'), expiring('b:1', 500), set('c', 'x')]);
      await backend.journal.append({ org: 'other', name: ref.name }, 0, [created, set('b:3', 'x')]);
      const all = () => true;
      const page = (request: Partial<KeyPageRequest>, now = 0) => backend.inline.keyPage(ref, now, { examine: 100, limit: 100, accept: all, ...request });
      const keysOf = (p: KeyPage) => p.rows.map((row) => row.key);
      expect(keysOf(await page({}))).toEqual(['a:1', 'b:1', 'b:10', 'b:2', 'c']);
      expect((await page({})).last).toBeUndefined();
      expect((await page({})).rows[1]).toEqual({ key: 'b:1', expiresAt: 500, bytes: 1 });
      expect(keysOf(await page({}, 1000))).toEqual(['a:1', 'b:10', 'b:2', 'c']); // expired: looked at, not returned
      const first = await page({ limit: 2 });
      expect(keysOf(first)).toEqual(['a:1', 'b:1']);
      expect(first.last?.toString()).toBe('b:1');
      expect(keysOf(await page({ after: first.last }))).toEqual(['b:10', 'b:2', 'c']);
      const bounded = await page({ examine: 3, accept: (key) => key === 'c' });
      expect(bounded.rows).toStrictEqual([]);
      expect(bounded.last?.toString()).toBe('b:10');
      expect(keysOf(await page({ prefix: Buffer.from('b:') }))).toEqual(['b:1', 'b:10', 'b:2']);
      expect(keysOf(await page({ prefix: Buffer.from('b:'), after: Buffer.from('a') }))).toEqual(['b:1', 'b:10', 'b:2']);
      expect(keysOf(await page({ prefix: Buffer.from('b:'), after: Buffer.from('b:10') }))).toEqual(['b:2']);
      expect(await page({ prefix: Buffer.from('zz') })).toEqual({ rows: [] });
    });

    it('moves a key in the expiry index on ExpiryChanged, keeping its listing and bytes; a rebuild agrees', async () => {
      const expiring = (key: string, text: string, expiresAt: number): CacheEvent => ({ ...meta(), type: 'Set', key, value: Buffer.from(text), expiresAt });
      const changed = (key: string, expiresAt: number): CacheEvent => ({ ...meta(), type: 'ExpiryChanged', key, expiresAt });
      await backend.journal.append(ref, 0, [created, expiring('a', 'aaa', 500), set('b', 'bb'), expiring('c', 'c', 700)]);
      // Later, never, sooner, and one for a key that is not there (changes nothing).
      await backend.journal.append(ref, 4, [changed('a', 5_000), changed('c', 0), changed('b', 300), changed('none', 100)]);
      expect(await backend.inline.listKeys(ref, 1_000)).toEqual(['a', 'c']); // b now expired at 300
      expect(await backend.inline.listKeys(ref, 0)).toEqual(['a', 'b', 'c']);
      expect(await backend.inline.orgBytes('acme')).toBe(3 + 2 + 1);
      expect(await backend.inline.dueExpiries(10_000, 10)).toEqual([
        { ref, key: 'b', expiresAt: 300 },
        { ref, key: 'a', expiresAt: 5_000 },
      ]);
      const replayed = (await all(backend.journal.replay(ref, 1))).map((r) => r.event).reduce(evolve, initialState());
      expect([...replayed.entries.entries()].map(([key, entry]) => [key, entry.expiresAt, entry.version])).toEqual([
        ['a', 5_000, 5],
        ['c', 0, 6],
        ['b', 300, 7],
      ]);
      const maintained = await backend.inline.dump();
      await backend.inline.rebuild();
      expect(await backend.inline.dump()).toEqual(maintained);
    });

    it('rebuilds the inline read models from the log to exactly the rows it maintained', async () => {
      const refs = Array.from({ length: 6 }, (_, i) => ({ org: `o${i % 2}`, name: `c${i}` }));
      const seqs = new Map<string, number>();
      for (let round = 0; round < 8; round++) {
        await Promise.all(
          refs.map(async (r, i) => {
            const events: CacheEvent[] = [
              { ...meta(), type: 'Set', key: `k${(round + i) % 4}`, value: Buffer.alloc(round + i), expiresAt: round % 3 === 0 ? 1000 + round : 0 },
              ...(round % 4 === i % 4 ? [{ ...meta(), type: 'Deleted', key: `k${round % 4}` } as CacheEvent] : []),
              ...(round === 5 && i === 2 ? [{ ...meta(), type: 'Flushed' } as CacheEvent] : []),
              ...(round === 6 && i === 3 ? [{ ...meta(), type: 'CacheDeleted' } as CacheEvent] : []),
            ];
            const at = seqs.get(r.name) ?? 0;
            seqs.set(r.name, at + events.length);
            await backend.journal.append(r, at, events);
          }),
        );
      }
      const maintained = await backend.inline.dump();
      expect(maintained.length).toBeGreaterThan(0);
      await backend.inline.rebuild();
      expect(await backend.inline.dump()).toEqual(maintained);
    });

    if (factory.reopen !== undefined) {
      it('keeps everything across a reopen: events, offsets, seqs, snapshots, compaction marks', async () => {
        // One event per append, as in the compaction test above.
        await backend.journal.append(ref, 0, [created]);
        await backend.journal.append(ref, 1, [set('a', '1')]);
        await backend.journal.append(ref, 2, [set('a', '2')]);
        await backend.journal.append(other, 0, [set('b', '1')]);
        await backend.snapshots.save(ref, 2, [created, set('a', '1')].reduce(evolve, initialState()));
        expect(await backend.journal.dropEvents(ref, 3, new Set([1]))).toBe(1);
        backend = track(await factory.reopen!(backend));
        expect(rank(backend.journal.highestOffset)).toBe(4);
        expect(await backend.journal.highestSeq(ref)).toBe(3);
        expect(await backend.journal.compactedThrough(ref)).toBe(2);
        expect((await backend.snapshots.load(ref))?.seq).toBe(2);
        expect(await backend.inline.listKeys(ref, 0)).toEqual(['a']);
        expect(await backend.inline.orgBytes('acme')).toBe(2);
        await expect(backend.journal.append(ref, 2, [set('a', 'stale')])).rejects.toMatchObject({ code: 'JOURNAL_SEQUENCE_CONFLICT' });
        const [next] = await backend.journal.append(ref, 3, [set('a', '3')]);
        expect([next.seq, rank(next.offset)]).toEqual([4, 5]);
        expect((await readAll(backend)).map((e) => [rank(e.offset), e.seq])).toEqual([
          [1, 1],
          [3, 3],
          [4, 1],
          [5, 4],
        ]);
      });
    }
  });
}
