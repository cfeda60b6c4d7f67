import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Members } from '../../src/cluster/rendezvous';
import { NatsServer, startSingleNats } from '../support/nats-server';
import { ServiceProcess, startService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { tokenFor } from '../support/test-app';

/**
 * One owner per cache (src/cluster/): three cachelog processes on one nats-server (R1, the
 * quickest setup; ownership does not depend on the stream's replicas), one stream for the file.
 * A command sent to a node that does not own its cache is run by the owner and answered the
 * same, over HTTP and RESP; a rolling restart with SIGTERM answers no error; a hung owner's
 * caches move once the members' TTL has passed, a killed one's at once. The tests run in order
 * on the same nodes.
 */
const token = tokenFor({ org: 'acme', name: 'tester' });
const auth = { authorization: `Bearer ${token}` };
const METRICS_TOKEN = 'metrics-token-for-the-ownership-test';
const MEMBER_TTL_MS = 2000;
const ENV = { JOURNAL: 'nats', NATS_TIMEOUT_MS: '2000', NATS_MEMBER_TTL_MS: String(MEMBER_TTL_MS), NATS_FORWARD_TIMEOUT_MS: '3000', METRICS_TOKEN, SHUTDOWN_GRACE_SECONDS: '1' };

interface Node {
  service: ServiceProcess;
  readonly dir: ReturnType<typeof tempDir>;
  readonly env: Record<string, string>;
  readonly id: string;
}

let nats: NatsServer;
const nodes: Node[] = [];

/** One nats-server and three nodes for the whole file; the tests run in order (the last one kills). */
beforeAll(async () => {
  nats = await startSingleNats();
  await startNodes('ownership');
}, 60_000);
afterAll(async () => {
  for (const node of nodes.splice(0)) {
    await stop(node.service, 'SIGTERM');
    node.dir.cleanup();
  }
  await nats.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stop(service: ServiceProcess, signal: NodeJS.Signals): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGCONT'); // a test that failed may have left it stopped
    service.child.kill(signal);
  }
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 15_000);
  await service.exited;
  clearTimeout(timer);
}

async function startNodes(stream: string, extra: Record<string, string> = {}): Promise<Node[]> {
  const started = await Promise.all(
    [0, 1, 2].map(async () => {
      const dir = tempDir();
      const env = { ...ENV, NATS_URL: nats.url, NATS_STREAM: stream, RESP_PORT: '0', ...extra };
      const service = await startService(dir.path, env);
      return { service, dir, env, id: readFileSync(join(dir.path, 'node-id'), 'utf8').trim() };
    }),
  );
  nodes.push(...started);
  await allSee(started, 3);
  return started;
}

/** The live members a node last logged. */
const membersSeen = (service: ServiceProcess): number => {
  const all = [...service.output().matchAll(/"msg":"members: (\d+)/g)];
  return all.length === 0 ? 0 : Number(all[all.length - 1][1]);
};

async function allSee(of: readonly Node[], count: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (!of.every((n) => membersSeen(n.service) === count)) {
    if (Date.now() > until) throw new Error(`members seen: ${of.map((n) => membersSeen(n.service)).join(', ')}, wanted ${count}`);
    await sleep(50);
  }
}

/** A cache name owned by `owner` among all the nodes' ids (the same rendezvous the nodes compute). */
function cacheOwnedBy(owner: Node, all: readonly Node[], prefix: string): string {
  const members = new Members(all.map((n) => n.id).sort());
  for (let i = 0; ; i++) if (members.ownerOf({ org: 'acme', name: `${prefix}${i}` }) === owner.id) return `${prefix}${i}`;
}

async function forwarded(node: Node): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.service.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const counts: Record<string, number> = {};
  for (const [, outcome, value] of text.matchAll(/^cachelog_forwarded_commands_total\{outcome="(\w+)"\} (\d+)/gm)) counts[outcome] = Number(value);
  return counts;
}

const respPortOf = (service: ServiceProcess): number => Number(/Redis protocol on redis:\/\/[\d.]+:(\d+)/.exec(service.output())![1]);

async function redis(node: Node, db: string): Promise<Redis> {
  const client = new Redis({ port: respPortOf(node.service), host: '127.0.0.1', username: db, password: token, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await client.connect();
  return client;
}

/** Status, ETag and body of a request, for comparing answers. */
async function answer(url: string, init: RequestInit = {}): Promise<{ status: number; etag: string | null; body: string }> {
  const res = await fetch(url, { ...init, headers: { ...auth, ...init.headers } });
  return { status: res.status, etag: res.headers.get('etag'), body: await res.text() };
}

describe('one owner per cache', () => {
  it('a command sent to a node that does not own the cache is run by the owner and answered as the owner answers it, over HTTP and RESP', async () => {
    const [owner, other, third] = nodes;
    const viaOwner = cacheOwnedBy(owner, nodes, 'direct');
    const viaOther = cacheOwnedBy(owner, nodes, 'forwarded');
    const before = await forwarded(owner);

    // The same requests on two fresh caches of the same owner: one sent to it, one to another node.
    const script = (cache: string): Array<[string, RequestInit]> => [
      [`/${cache}/k`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'one' }],
      [`/${cache}/k`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'two' }],
      [`/1/projects/acme/caches/${cache}/items/n`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 5 }) }],
      [`/1/projects/acme/caches/${cache}/items/n/increment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 3 }) }],
      [`/1/projects/acme/caches/${cache}/items/n`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'x', cas: 1 }) }], // refused: cas mismatch
      [`/${cache}/gone`, { method: 'DELETE' }],
    ];
    const direct = [];
    for (const [path, init] of script(viaOwner)) direct.push(await answer(`${owner.service.url}${path}`, init));
    const relayed = [];
    for (const [path, init] of script(viaOther)) relayed.push(await answer(`${other.service.url}${path}`, init));
    expect(relayed.map((a) => ({ ...a, body: a.body.replaceAll(viaOther, '<cache>') }))).toEqual(direct.map((a) => ({ ...a, body: a.body.replaceAll(viaOwner, '<cache>') })));
    expect(direct.map((a) => a.status)).toEqual([201, 201, 200, 200, 409, expect.any(Number)]);
    expect(relayed[1].etag).toBe('"v3"'); // the owner's seq (Created, Set, Set), answered by the forwarding node

    // Read-your-writes on the forwarding node: its next read sees the write, with or without minSeq.
    expect(await answer(`${other.service.url}/${viaOther}/k`)).toMatchObject({ status: 200, body: 'two' });
    expect(await answer(`${third.service.url}/${viaOther}/k?minSeq=3`)).toMatchObject({ status: 200, body: 'two' });

    // RESP: the same commands through the owner and through another node answer the same.
    const resp = async (node: Node, db: string) => {
      const client = await redis(node, db);
      try {
        const out: unknown[] = [];
        out.push(await client.set('r', 'v'));
        out.push(await client.incr('c'));
        out.push(await client.incrby('c', 10));
        out.push(await client.incr('r').catch((error: Error) => `error: ${error.message}`));
        out.push(await client.multi().set('m', '1').incr('m').exec());
        out.push(await client.multi().get('m').get('c').exec()); // two reads in a transaction: run where it arrives, answered the same
        out.push(await client.get('c'));
        return out;
      } finally {
        client.disconnect();
      }
    };
    const respDirect = await resp(owner, cacheOwnedBy(owner, nodes, 'respdirect'));
    const respRelayed = await resp(third, cacheOwnedBy(owner, nodes, 'resprelayed'));
    expect(respRelayed).toEqual(respDirect);
    expect(respDirect).toEqual(['OK', 1, 11, 'error: ERR value is not an integer or out of range', [[null, 'OK'], [null, 2]], [[null, '2'], [null, '11']], '11']);

    // The owner ran them: it served what the others forwarded; they served nothing.
    const after = await forwarded(owner);
    const relayedWrites = script('').length + 5; // HTTP writes through `other`, RESP writes through `third`
    expect((after.served ?? 0) - (before.served ?? 0)).toBeGreaterThanOrEqual(relayedWrites);
    expect((await forwarded(other)).answered).toBeGreaterThanOrEqual(script('').length);
    expect((await forwarded(third)).answered).toBeGreaterThanOrEqual(5);
    expect((await forwarded(other)).served ?? 0).toBe(0);
    expect((await forwarded(third)).served ?? 0).toBe(0);
  }, 60_000);

  it('a rolling restart with SIGTERM, while clients write and read through every node, answers no error and loses no acknowledged write', async () => {
    const inRotation = new Set([0, 1, 2]);
    const problems: string[] = [];
    const acknowledged = new Map<string, { value: string; seq: number }>();
    let requests = 0;
    let stopped = false;
    const pick = (random: number) => {
      const live = [...inRotation];
      return live[Math.floor(random * live.length)];
    };
    const client = async (c: number) => {
      for (let n = 0; !stopped; n++) {
        const cache = `roll${n % 6}`;
        const key = `c${c}-${n}`;
        const value = `${c}:${n}`;
        const writer = nodes[pick(Math.random())];
        requests++;
        const put = await answer(`${writer.service.url}/${cache}/${key}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: value }).catch((error: Error) => ({ status: 0, etag: null, body: `${error.message} ${String((error as { cause?: unknown }).cause)}` }));
        if (put.status !== 201) {
          problems.push(`write ${cache}/${key} through ${writer.id}: ${put.status} ${put.body.slice(0, 200)}`);
          continue;
        }
        const seq = Number(/"v(\d+)"/.exec(put.etag ?? '')?.[1]);
        acknowledged.set(`${cache}/${key}`, { value, seq });
        const reader = nodes[pick(Math.random())];
        requests++;
        const got = await answer(`${reader.service.url}/${cache}/${key}?minSeq=${seq}`).catch((error: Error) => ({ status: 0, etag: null, body: error.message }));
        if (got.status !== 200 || got.body !== value) problems.push(`read ${cache}/${key} through ${reader.id}: ${got.status} ${got.body.slice(0, 200)}`);
      }
    };
    const clients = Array.from({ length: 6 }, (_, c) => client(c));
    await sleep(1000);
    for (let i = 0; i < 3; i++) {
      const node = nodes[i];
      // As a load balancer does: out of rotation as SIGTERM is sent; SHUTDOWN_GRACE_SECONDS covers requests under way.
      inRotation.delete(i);
      await stop(node.service, 'SIGTERM');
      expect(node.service.output()).toMatch(/left the cluster: 2 of 2 members confirmed/);
      node.service = await startService(node.dir.path, node.env);
      await allSee(nodes, 3);
      inRotation.add(i);
      await sleep(500);
    }
    stopped = true;
    await Promise.all(clients);
    expect(problems).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    // Every acknowledged write, read back through every node.
    for (const node of nodes) {
      for (const [path, { value, seq }] of acknowledged) {
        const got = await answer(`${node.service.url}/${path}?minSeq=${seq}`);
        if (got.body !== value) problems.push(`${path} through ${node.id} after the restarts: ${got.status} ${got.body}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('failover: a hung owner\'s caches (SIGSTOP) are written through the others once NATS_MEMBER_TTL_MS has passed, a killed owner\'s (kill -9) at once; no acknowledged write is lost', async () => {
    // A hung process keeps its NATS connection: forwards to it time out (503, never repeated) until the others stop hearing it.
    const hung = nodes[0];
    const stalled = await underWrites(hung, 'hung', async () => void hung.service.child.kill('SIGSTOP'));
    console.log(`SIGSTOP of an owner: first acknowledged write invoked ${stalled.failoverMs} ms after it; ${stalled.refused} of ${stalled.writes} writes not acknowledged`);
    expect(stalled.failoverMs).toBeGreaterThan(MEMBER_TTL_MS / 2); // the members' TTL moved them (counted from the last heartbeat, ≤ TTL/3 before the stop)
    expect(stalled.failoverMs).toBeLessThan(MEMBER_TTL_MS + 2500);
    hung.service.child.kill('SIGCONT');
    await allSee(nodes, 3);
    // The stale owner comes back with commands it took before it hung: it may fail a write, never fork or lose one.
    await expectAcknowledged(stalled.acknowledged, nodes);

    // A killed process: NATS drops its subscriptions as its connection closes, so forwards find no responder at once.
    const killed = nodes[1];
    const crashed = await underWrites(killed, 'killed', () => stop(killed.service, 'SIGKILL'));
    console.log(`kill -9 of an owner: first acknowledged write invoked ${crashed.failoverMs} ms after it; ${crashed.refused} of ${crashed.writes} writes not acknowledged`);
    expect(crashed.failoverMs).toBeLessThan(MEMBER_TTL_MS + 2500);
    await expectAcknowledged(crashed.acknowledged, [nodes[0], nodes[2]]);
  }, 90_000);
});

/**
 * Writes to three caches `victim` owns, through the other nodes, while `fault` is done to it:
 * four clients one write after another, and a probe sending one every 100 ms whatever the
 * others wait for. Failover: from the fault to the first probe write invoked after it that
 * was acknowledged.
 */
async function underWrites(victim: Node, name: string, fault: () => Promise<void>) {
  const others = nodes.filter((n) => n !== victim);
  const caches = [0, 1, 2].map((i) => cacheOwnedBy(victim, nodes, `${name}${i}-`));
  const acknowledged = new Map<string, string>();
  const probes: Array<{ at: number; status: number }> = [];
  let writes = 0;
  let refused = 0;
  let stopped = false;
  const write = async (path: string, through: Node): Promise<number> => {
    writes++;
    const res = await fetch(`${through.service.url}/${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: path, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 201) acknowledged.set(path, path);
    else refused++;
    return res?.status ?? 0;
  };
  const client = async (c: number) => {
    for (let n = 0; !stopped; n++) await write(`${caches[n % caches.length]}/c${c}-${n}`, others[(c + n) % others.length]);
  };
  const clients = Array.from({ length: 4 }, (_, c) => client(c));
  let p = 0;
  const probing = setInterval(() => {
    const at = Date.now();
    const n = p++;
    void write(`${caches[n % caches.length]}/p${n}`, others[n % others.length]).then((status) => probes.push({ at, status }));
  }, 100);
  await sleep(1000);
  expect((await forwarded(victim)).served).toBeGreaterThan(0); // the victim was running its caches' writes
  const faultAt = Date.now();
  await fault();
  await allSee(others, others.length);
  await sleep(1500);
  clearInterval(probing);
  stopped = true;
  await Promise.all(clients);
  await sleep(3500); // the last probes' answers (a forward's timeout at most)
  const first = probes.filter((w) => w.at >= faultAt && w.status === 201).sort((x, y) => x.at - y.at)[0];
  expect(first).toBeDefined();
  // Once moved, the caches stay with their new owners: every probe sent a second after the first success is acknowledged.
  expect(probes.filter((w) => w.at > first.at + 1000 && w.status !== 201)).toEqual([]);
  expect(acknowledged.size).toBeGreaterThan(20);
  return { failoverMs: first.at - faultAt, acknowledged, writes, refused };
}

async function expectAcknowledged(acknowledged: ReadonlyMap<string, string>, through: readonly Node[]): Promise<void> {
  const lost: string[] = [];
  for (const node of through) {
    for (const [path, value] of acknowledged) {
      const got = await answer(`${node.service.url}/${path}`);
      if (got.body !== value) lost.push(`${path} through ${node.id}: ${got.status} ${got.body}`);
    }
  }
  expect(lost).toEqual([]);
}
