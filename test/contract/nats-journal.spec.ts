import { TimeoutError } from '@nats-io/nats-core';
import { CacheEvent, evolve, initialState } from '../../src/domain';
import { JournalBackend } from '../../src/journal/journal-backend';
import { NatsBackend } from '../../src/journal/nats/nats-backend';
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
      // The global read (projections' catch-up) too: every cache, in stream order, gapless offsets.
      const read: Array<{ name: string; seq: number; offset: number }> = [];
      for await (const chunk of reader.journal.read(0)) for (const e of chunk) read.push({ name: e.ref.name, seq: e.seq, offset: e.offset });
      expect(read.map((e) => e.offset)).toEqual(Array.from({ length: 165 }, (_, i) => i + 1));
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
});
