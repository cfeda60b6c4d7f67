import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TimeoutError, headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import { firstValueFrom, filter } from 'rxjs';
import { CacheEvent, evolve, initialState } from '../../src/domain';
import { encodeEvent } from '../../src/journal/codec';
import { JournalBackend } from '../../src/journal/journal-backend';
import { NatsBackend } from '../../src/journal/nats/nats-backend';
import { OFFSET_SLOTS } from '../../src/journal/nats/grouped-messages';
import { serializesSubjectChecks } from '../../src/journal/nats/nats-journal';
import { NatsServer, startSingleNats } from '../support/nats-server';
import { tempDir } from '../support/temp-dir';
import { journalContract } from './journal.contract';

// One real nats-server for the file; each test gets its own stream (offsets start at 1) and read-model dir.
let server: NatsServer;
beforeAll(async () => (server = await startSingleNats()));
afterAll(() => server.stop());

let streams = 0;
const opened = new Map<JournalBackend, { stream: string; dir: ReturnType<typeof tempDir> }>();

async function openBackend(stream: string, dir: ReturnType<typeof tempDir>, serializeAppends = false, timeoutMs = 5000): Promise<NatsBackend> {
  const backend = new NatsBackend({ servers: [server.url], replicas: 1, stream, timeoutMs, dataDir: dir.path, serializeAppends });
  await backend.open();
  opened.set(backend, { stream, dir });
  return backend;
}

journalContract('NATS JetStream', {
  gaplessOffsets: false,
  open: () => openBackend(`contract${++streams}`, tempDir()),
  reopen: async (backend) => {
    const { stream, dir } = opened.get(backend)!;
    await backend.close();
    opened.delete(backend);
    return openBackend(stream, dir);
  },
  dispose: async (backend) => {
    await backend.close();
    opened.get(backend)?.dir.cleanup();
    opened.delete(backend);
  },
});

// The append used on replicated streams of servers before 2.9.21 (stream-wide expected sequence).
journalContract('NATS JetStream, serialized appends', {
  gaplessOffsets: false,
  open: () => openBackend(`serial${++streams}`, tempDir(), true),
  dispose: async (backend) => {
    await backend.close();
    opened.get(backend)?.dir.cleanup();
    opened.delete(backend);
  },
});

describe('NATS journal specifics', () => {
  it('knows which servers serialize per-subject append checks on replicated streams (nats-server#4320)', () => {
    expect(['2.9.10', '2.9.20', '2.8.4'].map(serializesSubjectChecks)).toEqual([false, false, false]);
    expect(['2.9.21', '2.10.0', '2.12.1', '3.0.0-beta'].map(serializesSubjectChecks)).toEqual([true, true, true, true]);
  });

  let backend: NatsBackend;
  let dir: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    dir = tempDir();
    backend = await openBackend(`specific${++streams}`, dir);
  });
  afterEach(async () => {
    await backend.close();
    dir.cleanup();
  });

  it('gives every name one safe subject token: dots, wildcards, spaces and long Unicode names neither leak nor collide', async () => {
    const names = ['a.b', 'a', 'b', '*', '>', 'a b', '\t', 'ñ.*>', '🙂'.repeat(255), 'x'.repeat(255)];
    const refs = names.flatMap((org) => names.slice(0, 4).map((name) => ({ org, name })));
    for (const ref of refs) {
      const subject = backend.journal.subjects.of(ref);
      expect(subject.split('.')).toHaveLength(4); // <stream>.ev.<org>.<cache>
      expect(subject).toMatch(/^[A-Za-z0-9_.-]+$/);
      expect(backend.journal.subjects.refOf(subject)).toEqual(ref);
    }
    expect(new Set(refs.map((ref) => backend.journal.subjects.of(ref))).size).toBe(refs.length);
    await Promise.all(refs.map((ref, i) => backend.journal.append(ref, 0, [{ at: 1, by: 't', device: null, type: 'Set', key: 'k', value: Buffer.from(String(i)), expiresAt: 0 }])));
    for (const [i, ref] of refs.entries()) {
      const values: string[] = [];
      for await (const record of backend.journal.replay(ref)) values.push(record.event.type === 'Set' ? Buffer.from(record.event.value).toString() : '');
      expect(values).toEqual([String(i)]);
    }
  });

  it('reads a long cache, and the whole stream, event by event when no consumer can be made (as after a server died), in order and whole', async () => {
    const ref = { org: 'acme', name: 'long' };
    const other = { org: 'acme', name: 'other' };
    for (let seq = 0; seq < 150; seq++) {
      await backend.journal.append(ref, seq, [{ at: 1, by: 't', device: null, type: 'Set', key: `k${seq % 7}`, value: Buffer.from(String(seq)), expiresAt: 0 }]);
      if (seq % 10 === 0) await backend.journal.append(other, seq / 10, [{ at: 1, by: 't', device: null, type: 'Deleted', key: 'x' }]);
    }
    // A second node knows nothing of the cache's head, so a long read would scan with a consumer.
    const reader = await openBackend(backend.journal.subjects.all.split('.')[0], tempDir(), false, 400);
    try {
      // Every consumer creation times out, as nats-server 2.9.10 does for minutes after a peer's kill -9.
      const timesOut = () => new Promise((_, reject) => setTimeout(() => reject(new TimeoutError()), 50));
      (reader.journal as unknown as { jsConsumers: unknown }).jsConsumers = { consumers: { get: timesOut } };
      const seqs: number[] = [];
      const values: string[] = [];
      for await (const record of reader.journal.replay(ref)) {
        seqs.push(record.seq);
        if (record.event.type === 'Set') values.push(Buffer.from(record.event.value).toString());
      }
      expect(seqs).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      expect(values).toEqual(Array.from({ length: 150 }, (_, i) => String(i)));
      // The global read (projections' catch-up) too: every cache, in stream order.
      const read: Array<{ name: string; seq: number; offset: number }> = [];
      for await (const chunk of reader.journal.read(0)) for (const e of chunk) read.push({ name: e.ref.name, seq: e.seq, offset: e.offset });
      expect(read.map((e) => e.offset)).toEqual(Array.from({ length: 165 }, (_, i) => (i + 1) * OFFSET_SLOTS)); // one event per message
      expect(read.filter((e) => e.name === 'long').map((e) => e.seq)).toEqual(seqs);
      expect(read.filter((e) => e.name === 'other').map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    } finally {
      await reader.close();
      opened.get(reader)?.dir.cleanup();
      opened.delete(reader);
    }
  });

  it('splits a snapshot larger than one NATS message into chunks and loads it whole', async () => {
    const ref = { org: 'acme', name: 'big' };
    const events: CacheEvent[] = Array.from({ length: 40 }, (_, i) => ({ at: 1, by: 't', device: null, type: 'Set', key: `k${i}`, value: Buffer.alloc(64 * 1024, i), expiresAt: 0 }));
    const state = events.reduce(evolve, initialState());
    await backend.snapshots.save(ref, 40, state);
    const loaded = await backend.snapshots.load(ref);
    expect(loaded?.seq).toBe(40);
    expect(loaded!.state.entries.size).toBe(40);
    expect(Buffer.from(loaded!.state.entries.get('k39')!.value)).toEqual(Buffer.alloc(64 * 1024, 39));
  });

  const setEvent = (key: string, value: string | Buffer): CacheEvent => ({ at: 1, by: 't', device: null, type: 'Set', key, value: Buffer.from(value), expiresAt: 0 });
  const streamOf = (b: NatsBackend) => b.journal.subjects.all.split('.')[0];
  async function messageCount(b: NatsBackend): Promise<number> {
    const nc = await connect({ servers: server.url });
    try {
      return (await (await jetstreamManager(nc)).streams.info(streamOf(b))).state.messages;
    } finally {
      await nc.close();
    }
  }
  async function values(b: NatsBackend, ref: { org: string; name: string }): Promise<Array<[number, string]>> {
    const out: Array<[number, string]> = [];
    for await (const r of b.journal.replay(ref)) out.push([r.seq, r.event.type === 'Set' ? Buffer.from(r.event.value).toString() : r.event.type]);
    return out;
  }

  it('publishes a group of events as one message, which every reader reads as its events, on this node and another', async () => {
    const ref = { org: 'acme', name: 'grouped' };
    const followed: Array<[number, number]> = [];
    const seen = firstValueFrom(
      backend.journal.follow(0).pipe(filter((batch) => (followed.push(...batch.map((e): [number, number] => [e.seq, e.offset])), batch.some((e) => e.seq === 4)))),
    );
    const envelopes = await backend.journal.append(ref, 0, [setEvent('a', '1'), setEvent('b', '2'), setEvent('c', '3')]);
    await backend.journal.append(ref, 3, [setEvent('a', '4')]);
    expect(await messageCount(backend)).toBe(2);
    expect(envelopes.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(envelopes.map((e) => e.offset)).toEqual([OFFSET_SLOTS - 2, OFFSET_SLOTS - 1, OFFSET_SLOTS]);
    expect(backend.journal.highestOffset).toBe(2 * OFFSET_SLOTS);
    await seen;
    expect(followed).toEqual([
      [1, OFFSET_SLOTS - 2],
      [2, OFFSET_SLOTS - 1],
      [3, OFFSET_SLOTS],
      [4, 2 * OFFSET_SLOTS],
    ]);
    expect(await backend.inline.listKeys(ref, 0)).toEqual(['a', 'b', 'c']);
    // Another node: replay from any seq, its head, the global log from inside the group.
    const reader = await openBackend(streamOf(backend), tempDir());
    try {
      expect(await values(reader, ref)).toEqual([
        [1, '1'],
        [2, '2'],
        [3, '3'],
        [4, '4'],
      ]);
      const from2: number[] = [];
      await reader.journal.forEachEvent(ref, 2, (seq) => from2.push(seq));
      expect(from2).toEqual([2, 3, 4]);
      expect(await reader.journal.highestSeq(ref)).toBe(4);
      expect(await reader.journal.offsetsOf(ref, [2, 4])).toEqual([OFFSET_SLOTS - 1, 2 * OFFSET_SLOTS]);
      const after: number[] = [];
      for await (const chunk of reader.journal.read(OFFSET_SLOTS - 2)) after.push(...chunk.map((e) => e.seq));
      expect(after).toEqual([2, 3, 4]);
      await expect(reader.journal.append(ref, 3, [setEvent('x', 'stale')])).rejects.toMatchObject({ code: 'JOURNAL_SEQUENCE_CONFLICT', actualSeq: 4 });
      expect((await reader.journal.append(ref, 4, [setEvent('x', '5'), setEvent('y', '6')])).map((e) => e.seq)).toEqual([5, 6]);
    } finally {
      await reader.close();
      opened.get(reader)?.dir.cleanup();
      opened.delete(reader);
    }
  });

  it('reads single-event messages as earlier versions wrote them, before and after grouped ones', async () => {
    const ref = { org: 'acme', name: 'old' };
    const subject = backend.journal.subjects.of(ref);
    const nc = await connect({ servers: server.url });
    try {
      const js = jetstream(nc);
      for (let seq = 1; seq <= 3; seq++) {
        const hdrs = headers();
        hdrs.set('Cachelog-Seq', String(seq)); // the old format: one event, its seq in this header, nothing else
        await js.publish(subject, encodeEvent(setEvent(`k${seq}`, `old${seq}`)), { headers: hdrs });
      }
    } finally {
      await nc.close();
    }
    const reader = await openBackend(streamOf(backend), tempDir());
    try {
      expect(await reader.journal.highestSeq(ref)).toBe(3);
      expect((await reader.journal.append(ref, 3, [setEvent('k4', 'new4'), setEvent('k5', 'new5')])).map((e) => e.seq)).toEqual([4, 5]);
      expect(await values(reader, ref)).toEqual([
        [1, 'old1'],
        [2, 'old2'],
        [3, 'old3'],
        [4, 'new4'],
        [5, 'new5'],
      ]);
      const log: Array<[number, number]> = [];
      for await (const chunk of reader.journal.read(0)) log.push(...chunk.map((e): [number, number] => [e.seq, e.offset]));
      expect(log).toEqual([
        [1, OFFSET_SLOTS],
        [2, 2 * OFFSET_SLOTS],
        [3, 3 * OFFSET_SLOTS],
        [4, 4 * OFFSET_SLOTS - 1],
        [5, 4 * OFFSET_SLOTS],
      ]);
      // The read models this node built from the stream hold the old and the new keys.
      expect(await reader.inline.listKeys(ref, 0)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    } finally {
      await reader.close();
      opened.get(reader)?.dir.cleanup();
      opened.delete(reader);
    }
  });

  it('splits an append larger than one message (bytes or events) into a chain of messages, read back whole', async () => {
    const ref = { org: 'acme', name: 'large' };
    const big = Array.from({ length: 3 }, (_, i) => setEvent(`big${i}`, Buffer.alloc(400 * 1024, i)));
    await backend.journal.append(ref, 0, big); // 1 MiB messages: two fit in one, the third goes on its own
    const many = Array.from({ length: OFFSET_SLOTS + 5 }, (_, i) => setEvent(`m${i}`, 'x'));
    const envelopes = await backend.journal.append(ref, 3, many);
    expect(await messageCount(backend)).toBe(4);
    const offsets = envelopes.map((e) => e.offset);
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1])).toBe(true);
    const replayed = await values(backend, ref);
    expect(replayed.map(([seq]) => seq)).toEqual(Array.from({ length: 3 + OFFSET_SLOTS + 5 }, (_, i) => i + 1));
    expect(replayed[2][1]).toBe(Buffer.alloc(400 * 1024, 2).toString());
  });

  it('compacts whole messages: a group goes only when every event in it may', async () => {
    const ref = { org: 'acme', name: 'compact' };
    await backend.journal.append(ref, 0, [setEvent('a', '1'), setEvent('b', '2')]); // seqs 1-2, nothing kept
    await backend.journal.append(ref, 2, [setEvent('a', '3'), setEvent('c', '4')]); // seqs 3-4, seq 4 kept
    await backend.journal.append(ref, 4, [setEvent('a', '5'), setEvent('d', '6')]); // seqs 5-6, past the cut
    expect(await backend.journal.dropEvents(ref, 6, new Set([4]))).toBe(2);
    expect((await values(backend, ref)).map(([seq]) => seq)).toEqual([3, 4, 5, 6]);
    expect(await backend.journal.compactedThrough(ref)).toBe(5);
    expect(await backend.journal.highestSeq(ref)).toBe(6);
  });

  it('warns at start when the stream it writes has one replica, naming the server setting it cannot see', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const again = await openBackend(streamOf(backend), tempDir());
    try {
      expect(warn.mock.calls.map(([message]) => String(message)).some((m) => m.includes('1 replica') && m.includes('sync_interval: always'))).toBe(true);
    } finally {
      warn.mockRestore();
      await again.close();
      opened.get(again)?.dir.cleanup();
      opened.delete(again);
    }
  });
});
