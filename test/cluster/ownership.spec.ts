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
 * quickest setup; ownership does not depend on the stream's replicas). A command sent to a node
 * that does not own its cache is run by the owner and answered the same, over HTTP and RESP; a
 * rolling restart with SIGTERM answers no error; a kill -9 of an owner moves its caches within
 * the membership bound. Each test runs on its own stream.
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

beforeAll(async () => (nats = await startSingleNats()), 30_000);
afterEach(async () => {
  for (const node of nodes.splice(0)) {
    await stop(node.service, 'SIGTERM');
    node.dir.cleanup();
  }
});
afterAll(() => nats.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stop(service: ServiceProcess, signal: NodeJS.Signals): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill(signal);
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
    const [owner, other, third] = await startNodes('own-forward');
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
        out.push(await client.get('c'));
        return out;
      } finally {
        client.disconnect();
      }
    };
    const respDirect = await resp(owner, cacheOwnedBy(owner, nodes, 'respdirect'));
    const respRelayed = await resp(third, cacheOwnedBy(owner, nodes, 'resprelayed'));
    expect(respRelayed).toEqual(respDirect);
    expect(respDirect).toEqual(['OK', 1, 11, 'error: ERR value is not an integer or out of range', [[null, 'OK'], [null, 2]], '11']);

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
    await startNodes('own-rolling');
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
      await sleep(1000);
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

  it('kill -9 of an owner under writes: its caches are written through the others within NATS_MEMBER_TTL_MS, and no acknowledged write is lost', async () => {
    const [victim, a, b] = await startNodes('own-kill');
    const caches = [0, 1, 2].map((i) => cacheOwnedBy(victim, nodes, `victim${i}-`));
    const acknowledged = new Map<string, string>();
    const writes: Array<{ at: number; status: number }> = [];
    let stopped = false;
    const client = async (c: number) => {
      for (let n = 0; !stopped; n++) {
        const cache = caches[n % caches.length];
        const path = `${cache}/c${c}-${n}`;
        const at = Date.now();
        const res = await fetch(`${[a, b][(c + n) % 2].service.url}/${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: path, signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        await res?.arrayBuffer();
        writes.push({ at, status: res?.status ?? 0 });
        if (res?.status === 201) acknowledged.set(path, path);
      }
    };
    const clients = Array.from({ length: 4 }, (_, c) => client(c));
    await sleep(1500);
    expect((await forwarded(victim)).served).toBeGreaterThan(0); // the victim owned the caches written
    const killedAt = Date.now();
    await stop(victim.service, 'SIGKILL');
    await allSee([a, b], 2);
    await sleep(1500);
    stopped = true;
    await Promise.all(clients);
    const firstAfter = writes.filter((w) => w.at >= killedAt && w.status === 201).sort((x, y) => x.at - y.at)[0];
    expect(firstAfter).toBeDefined();
    const failover = firstAfter.at - killedAt;
    console.log(`kill -9 of the owner: first acknowledged write invoked ${failover} ms after the kill; ${writes.filter((w) => w.status !== 201).length} of ${writes.length} writes not acknowledged`);
    // The design's bound: a killed process's caches move at once (NATS answers "no responders"), a hung one's after the TTL.
    expect(failover).toBeLessThan(MEMBER_TTL_MS + 3000);
    // Writes invoked after the first success all succeed: the caches stay with their new owners.
    expect(writes.filter((w) => w.at > firstAfter.at + 1000 && w.status !== 201)).toEqual([]);
    const lost: string[] = [];
    for (const node of [a, b]) {
      for (const [path, value] of acknowledged) {
        const got = await answer(`${node.service.url}/${path}`);
        if (got.body !== value) lost.push(`${path} through ${node.id}: ${got.status} ${got.body}`);
      }
    }
    expect(lost).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(20);
  }, 90_000);
});
