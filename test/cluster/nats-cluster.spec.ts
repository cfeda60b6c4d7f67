import { jetstreamManager, type MsgRequest } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { decodeEvent } from '../../src/journal/codec';
import { eventsOf } from '../../src/journal/nats/grouped-messages';
import { Subjects } from '../../src/journal/nats/subjects';
import { evolve, initialState } from '../../src/domain';
import { freePort } from '../support/free-port';
import { waitForJetStream } from '../support/nats-cluster';
import { NatsServer, startNatsServer } from '../support/nats-server';
import { ServiceProcess, startService, stopService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { tokenFor } from '../support/test-app';

/**
 * Scale-out on a real cluster: three nats-server processes (JetStream, routes on loopback
 * ports, temp stores) and two cachelog processes on one R3 stream. Each test uses its own
 * stream (NATS_STREAM) and its own pair of nodes.
 */
const token = tokenFor({ org: 'acme', name: 'tester' });
const auth = { authorization: `Bearer ${token}` };

let servers: NatsServer[] = [];
let specs: Array<Parameters<typeof startNatsServer>[0]> = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
let natsUrl = '';

beforeAll(async () => {
  const ports = await Promise.all(Array.from({ length: 3 }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: 3 }, () => freePort()));
  specs = ports.map((port, i) => {
    const dir = tempDir('cachelog-nats-cluster-');
    dirs.push(dir);
    return { name: `n${i + 1}`, port, cluster: { port: routes[i], routes }, storeDir: dir.path };
  });
  servers = await Promise.all(specs.map((spec) => startNatsServer(spec)));
  natsUrl = servers.map((s) => s.url).join(',');
  await waitForJetStream(natsUrl);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of dirs) dir.cleanup();
});

/**
 * How long the cluster may take to serve again after a server's kill -9. On nats-server 2.9.10
 * new consumers (a cache's recovery, a replay) keep being placed on the dead server for a
 * minute or more, and under load creating one failed for 30-40 s in a row (measured here).
 */
const RECOVERY_MS = 90_000;
/** A kill test: acknowledged writes (≤ 20 s), writes through each node and a replay (each ≤ RECOVERY_MS). */
const KILL_TEST_MS = 20_000 + 3 * RECOVERY_MS + 30_000;

let streams = 0;
const nodes: Array<{ service: ServiceProcess; dir: ReturnType<typeof tempDir> }> = [];

async function startNodes(stream: string, count = 2): Promise<ServiceProcess[]> {
  const started: ServiceProcess[] = [];
  for (let i = 0; i < count; i++) {
    const dir = tempDir();
    const service = await startService(dir.path, { JOURNAL: 'nats', NATS_URL: natsUrl, NATS_REPLICAS: '3', NATS_STREAM: stream });
    nodes.push({ service, dir });
    started.push(service);
  }
  return started;
}

afterEach(async () => {
  for (const { service, dir } of nodes.splice(0)) {
    await stopService(service);
    dir.cleanup();
  }
  // Drop the test's streams and buckets: fewer replicated groups to re-elect when a server dies.
  const nc = await connect({ servers: natsUrl.split(','), timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    for await (const name of jsm.streams.names()) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
});

async function put(node: ServiceProcess, cache: string, key: string, value: string): Promise<{ status: number; seq?: number; code?: string }> {
  const res = await fetch(`${node.url}/${cache}/${encodeURIComponent(key)}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: value });
  const etag = res.headers.get('etag');
  const text = await res.text();
  const code = res.status >= 400 ? (JSON.parse(text) as { code?: string }).code : undefined;
  return { status: res.status, seq: etag ? Number(/"v(\d+)"/.exec(etag)![1]) : undefined, code };
}

async function get(node: ServiceProcess, cache: string, key: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`${node.url}/${cache}/${encodeURIComponent(key)}`, { headers: { ...auth, ...headers } });
  return { status: res.status, body: await res.text() };
}

/** What the stream holds for one cache (retried while the cluster elects leaders after a server died). */
async function replayOf(stream: string, cache: string): ReturnType<typeof replayOnce> {
  const until = Date.now() + RECOVERY_MS;
  for (;;) {
    try {
      return await replayOnce(stream, cache);
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * Reads the cache's subject message by message, by direct gets (the stream leader answers),
 * and replays it: seqs and the replayed state. No consumer: after a server's kill -9,
 * nats-server 2.9.10 keeps placing new consumers on the dead server for minutes under load,
 * and the oracle must not depend on that.
 */
async function replayOnce(stream: string, cache: string) {
  const nc = await connect({ servers: natsUrl.split(','), timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const subject = new Subjects(stream).of({ org: 'acme', name: cache });
    const seqs: number[] = [];
    const events = new Map<number, { key: string; value: string }>();
    const state = initialState();
    for (let cursor = 1; ; ) {
      // nats-server's MSG.GET takes next_by_subj since 2.9.0; nats.js types it for direct gets only.
      const msg = await jsm.streams.getMessage(stream, { seq: cursor, next_by_subj: subject } as unknown as MsgRequest);
      if (msg === null) break;
      // A message holds one event or a group commit's (see grouped-messages.ts).
      for (const { seq, data } of eventsOf(msg.seq, msg.header, msg.data)) {
        const event = decodeEvent(data);
        seqs.push(seq);
        evolve(state, event);
        if (event.type === 'Set') events.set(seq, { key: event.key, value: Buffer.from(event.value).toString() });
      }
      cursor = msg.seq + 1;
    }
    const values = new Map([...state.entries.entries()].map(([key, entry]) => [key, Buffer.from(entry.value).toString()]));
    return { seqs, values, events };
  } finally {
    await nc.close();
  }
}

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Write = { key: string; value: string };

/**
 * Writers putting `<prefix><i % 50>` = `<prefix>-<i>` into one cache through their nodes until
 * stopped; `stop()` resolves to the acknowledged writes by the seq their ETag named.
 */
function concurrentWriters(cache: string, writers: Array<[ServiceProcess, string, { endOnRefusal?: boolean }?]>) {
  const acked = new Map<number, Write>();
  let stop = false;
  const running = writers.map(async ([node, prefix, options]) => {
    for (let i = 0; !stop; i++) {
      const key = `${prefix}${i % 50}`;
      const value = `${prefix}-${i}`;
      const result = await put(node, cache, key, value).catch(() => ({ status: 0, seq: undefined }));
      if (result.status === 201) acked.set(result.seq!, { key, value });
      else if (options?.endOnRefusal) return;
    }
  });
  return {
    /** Resolves once writes are being acknowledged (a fixed delay may end before the first on a loaded machine). */
    async acknowledging(count = 20, withinMs = 20_000): Promise<void> {
      for (const until = Date.now() + withinMs; acked.size < count && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
    },
    async stop(): Promise<Map<number, Write>> {
      stop = true;
      await Promise.all(running);
      return acked;
    },
  };
}

describe('cachelog on a 3-server NATS JetStream cluster', () => {
  it('writes through both nodes to one cache never fork: contiguous seqs, and each node equals a replay of the stream', async () => {
    const stream = `fork${++streams}`;
    const [a, b] = await startNodes(stream);
    // Both nodes hold the cache before the race, so both decide on their own copy.
    await put(a, 'shared', 'seed', 'x');
    expect((await get(b, 'shared', 'seed')).body).toBe('x');
    const writes = Array.from({ length: 120 }, (_, i) => ({ node: i % 2 === 0 ? a : b, key: `k${i % 30}`, value: `v${i}` }));
    const results = await Promise.all(writes.map((w) => put(w.node, 'shared', w.key, w.value)));
    // Contention is not an error: a write another node beat is decided again, and lands.
    expect(results.filter((r) => r.status !== 201)).toStrictEqual([]);
    const acked = writes.filter((_, i) => results[i].status === 201);

    const { seqs, values, events } = await replayOf(stream, 'shared');
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    // Every acknowledged write is in the stream at the seq its ETag named, and at no other.
    for (const [i, w] of writes.entries()) {
      if (results[i].status !== 201) continue;
      expect(events.get(results[i].seq!)).toEqual({ key: w.key, value: w.value });
    }
    expect(new Set(acked.map((_, i) => results.filter((r) => r.status === 201)[i].seq)).size).toBe(acked.length);
    const last = seqs[seqs.length - 1];
    for (const node of [a, b]) {
      const keys = (await fetch(`${node.url}/cacheName/shared/keys?minSeq=${last}`, { headers: auth }).then((r) => r.json())) as { keys: string[] };
      expect([...keys.keys].sort()).toEqual([...values.keys()].sort());
      for (const [key, value] of values) expect(await get(node, 'shared', key, { 'x-cachelog-min-seq': String(last) })).toEqual({ status: 200, body: value });
    }
  });

  it('a write through node A is read through node B: at once with minSeq, and without it within the follow lag', async () => {
    const [a, b] = await startNodes(`ryw${++streams}`);
    const first = await put(a, 'c', 'k', 'one');
    expect(first.status).toBe(201);
    expect(await get(b, 'c', 'k', { 'x-cachelog-min-seq': String(first.seq) })).toEqual({ status: 200, body: 'one' });
    // B now holds the cache and follows the stream: A's next write shows up on B by itself.
    const second = await put(a, 'c', 'k', 'two');
    const seen = await eventually(
      () => get(b, 'c', 'k'),
      (r) => r.body === 'two',
      5_000, // README: writes from other nodes show within the stream's delivery lag (milliseconds on a LAN)
    );
    expect(seen.body).toBe('two');
    expect((await fetch(`${b.url}/c/k?minSeq=${second.seq}`, { headers: auth })).status).toBe(200);
    // A minSeq the journal never reached is a clear 400, and bad ones too.
    const ahead = await fetch(`${b.url}/c/k?minSeq=999`, { headers: auth });
    expect(ahead.status).toBe(400);
    expect(await ahead.json()).toMatchObject({ code: 'MIN_SEQ_NOT_REACHED' });
    const bad = await fetch(`${b.url}/c/k?minSeq=soon`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('kill -9 of a cachelog node under concurrent writes: no acknowledged write is lost, the survivor keeps serving', async () => {
    const stream = `killnode${++streams}`;
    const [a, b] = await startNodes(stream);
    // A refused write may still land: only acknowledged ones are checked. A's writer ends with A.
    const load = concurrentWriters('kill', [
      [a, 'a', { endOnRefusal: true }],
      [b, 'b'],
      [b, 'c'],
    ]);
    await load.acknowledging();
    a.child.kill('SIGKILL');
    await a.exited;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const acked = await load.stop();
    expect(acked.size).toBeGreaterThan(0);
    const { seqs, values, events } = await replayOf(stream, 'kill');
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const [seq, write] of acked) expect(events.get(seq)).toEqual(write);
    // The survivor serves what the stream holds, A's acknowledged writes included.
    for (const [key, value] of values) expect(await get(b, 'kill', key, { 'x-cachelog-min-seq': String(seqs.length) })).toEqual({ status: 200, body: value });
    expect((await put(b, 'kill', 'after', 'yes')).status).toBe(201);
  }, KILL_TEST_MS);

  it('kill -9 of one NATS server under concurrent writes: no acknowledged write is lost, both nodes keep serving', async () => {
    const stream = `killnats${++streams}`;
    const [a, b] = await startNodes(stream);
    // 503s while the stream elects a new leader are not counted (they may still land).
    const load = concurrentWriters('nk', [
      [a, 'a'],
      [b, 'b'],
    ]);
    await load.acknowledging();
    const victim = servers[0];
    await victim.kill();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const acked = await load.stop();
    // Both nodes write again on the two remaining servers.
    const afterA = await eventually(() => put(a, 'nk', 'after-a', '1'), (r) => r.status === 201, RECOVERY_MS);
    const afterB = await eventually(() => put(b, 'nk', 'after-b', '1'), (r) => r.status === 201, RECOVERY_MS);
    if (afterA.status !== 201 || afterB.status !== 201) console.log(a.output().slice(-3000), b.output().slice(-3000));
    expect([afterA.status, afterB.status]).toEqual([201, 201]);
    acked.set(afterA.seq!, { key: 'after-a', value: '1' }).set(afterB.seq!, { key: 'after-b', value: '1' });
    const { seqs, events } = await replayOf(stream, 'nk');
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const [seq, write] of acked) expect(events.get(seq)).toEqual(write);
    for (const node of [a, b]) {
      expect(await get(node, 'nk', 'after-a', { 'x-cachelog-min-seq': String(seqs.length) })).toEqual({ status: 200, body: '1' });
    }
    // Put the server back for any later test (same store, same ports).
    servers[0] = await startNatsServer(specs[0]);
  }, KILL_TEST_MS);
});
