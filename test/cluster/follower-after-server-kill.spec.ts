import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsCluster, startNatsCluster } from '../support/nats-cluster';
import { ServiceProcess, startService, stopService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { tokenFor } from '../support/test-app';

/**
 * Every cachelog node follows the stream with one ordered consumer (R1: it lives on one NATS
 * server). When that server is killed with `kill -9` and started again, the node must go on
 * applying other nodes' writes: a write through one node becomes visible to plain reads (no
 * `minSeq`, served from the node's memory) on the others within a bound. Before the fix the
 * consumer on the dead server went unnoticed for 30 s or more (nats.js notices two missed
 * 15 s heartbeats), and once nats.js made it again it pulled nothing (the dead pulls' pending
 * count was kept): those nodes served stale reads.
 */
const token = tokenFor({ org: 'acme' });
const auth = { authorization: `Bearer ${token}` };
const STREAM = 'followers';
/** Generous against a delivery lag of milliseconds; the stall detection takes about 3 s, nats.js alone 30 s or more. */
const VISIBLE_WITHIN_MS = 12_000;

let cluster: NatsCluster;
const nodes: Array<{ service: ServiceProcess; dir: ReturnType<typeof tempDir> }> = [];

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  for (let i = 0; i < 3; i++) {
    const dir = tempDir();
    const env = { JOURNAL: 'nats', NATS_URL: cluster.url, NATS_STREAM: STREAM, NATS_REPLICAS: '3', NATS_TIMEOUT_MS: '2000', RESP_PORT: 'off' };
    nodes.push({ service: await startService(dir.path, env), dir });
  }
}, 60_000);

afterAll(async () => {
  for (const { service, dir } of nodes.splice(0)) {
    await stopService(service);
    dir.cleanup();
  }
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A write through `node`, tried again while the stream elects a leader (503). */
async function write(node: number, cache: string, value: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${nodes[node].service.url}/${cache}/k`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: value }).catch(() => undefined);
    const text = (await res?.text()) ?? 'no answer';
    if (res?.status === 201) return;
    if (Date.now() > until) throw new Error(`write through node ${node}: ${res?.status} ${text}`);
    await sleep(250);
  }
}

/** Plain reads (no minSeq) through `node` until the value is there; how long that took, or undefined past the bound. */
async function seenWithin(node: number, cache: string, value: string, withinMs: number): Promise<number | undefined> {
  const started = Date.now();
  for (;;) {
    const res = await fetch(`${nodes[node].service.url}/${cache}/k`, { headers: auth }).catch(() => undefined);
    if ((await res?.text()) === value) return Date.now() - started;
    if (Date.now() - started > withinMs) return undefined;
    await sleep(100);
  }
}

/** The NATS server holding most of the stream's consumers (the nodes' followers), the stream leader on a tie. */
async function serverOfFollowers(): Promise<{ index: number; consumers: number; leader: string | undefined }> {
  const nc = await connect({ servers: cluster.url.split(','), timeout: 5000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const leader = (await jsm.streams.info(STREAM)).cluster?.leader;
    const count = new Map<string, number>();
    for await (const info of jsm.consumers.list(STREAM)) {
      const at = info.cluster?.leader;
      if (at !== undefined) count.set(at, (count.get(at) ?? 0) + 1);
    }
    const ranked = [...count.entries()].sort((a, b) => b[1] - a[1] || Number(b[0] === leader) - Number(a[0] === leader));
    const [name, consumers] = ranked[0] ?? [leader ?? 'n1', 0];
    return { index: cluster.servers.findIndex((s) => s.name === name), consumers, leader };
  } finally {
    await nc.close();
  }
}

describe("nodes' followers after a NATS server is killed", () => {
  it('kill -9 and restart of the server holding the followers: a write through any node is seen by plain reads on the others', async () => {
    // One cache per writing node, held in memory by every node (a plain read loads it there).
    const caches = nodes.map((_, i) => `f${i}`);
    for (const [i, cache] of caches.entries()) await write(i, cache, 'before');
    for (const cache of caches) for (let node = 0; node < nodes.length; node++) expect(await seenWithin(node, cache, 'before', 20_000)).toBeDefined();

    const target = await serverOfFollowers();
    expect(target.consumers).toBeGreaterThan(0); // a follower lives there: the kill reaches it
    await cluster.kill(target.index);
    await sleep(3_000);
    await cluster.restart(target.index);

    const missed: string[] = [];
    for (let round = 1; round <= 2; round++) {
      for (const [writer, cache] of caches.entries()) {
        const value = `after-${round}`;
        await write(writer, cache, value);
        const waits = await Promise.all(nodes.map((_, node) => (node === writer ? 0 : seenWithin(node, cache, value, VISIBLE_WITHIN_MS))));
        for (const [node, waited] of waits.entries()) if (waited === undefined) missed.push(`round ${round}: node ${writer}'s write to ${cache} not seen by node ${node} within ${VISIBLE_WITHIN_MS} ms`);
      }
    }
    const restarts = nodes.map(({ service }) => service.output().split('\n').filter((line) => /following the stream stalled/.test(line)).length);
    console.log(`killed ${cluster.servers[target.index].name} (${target.consumers} consumer(s) there, stream leader ${target.leader}); followers made again per node: ${restarts.join(', ')}\n${missed.join('\n')}`);
    if (missed.length > 0) for (const [i, { service }] of nodes.entries()) console.log(`node ${i}:\n${service.output().split('\n').filter((line) => /follow|stale|catch|behind|NATS/i.test(line)).slice(-10).join('\n')}`);
    expect(missed).toStrictEqual([]);
  }, 90_000);
});
