import { NatsCluster, startNatsCluster } from '../support/nats-cluster';
import { NatsServer, startSingleNats } from '../support/nats-server';
import { ServiceProcess, startService, stopService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { tokenFor } from '../support/test-app';

/**
 * Contention is not an error: clients writing one cache through 3 cachelog nodes at once,
 * with no node or NATS server dying, get no 503. A write another node beat to the cache is
 * decided again on the caught-up state (never published with a stale decision): the final
 * counter equals the number of acknowledged increments, and every increment answered a
 * distinct value. Once on one nats-server (R1, the bench's setup) and once on a 3-server
 * cluster (R3; on nats-server < 2.9.21 the serialized append).
 */
const org = 'acme';
const token = tokenFor({ org, name: 'tester' });
const CLIENTS = 12;
const INCREMENTS_PER_CLIENT = 25;

type Node = { service: ServiceProcess; dir: ReturnType<typeof tempDir> };

async function startNodes(env: Record<string, string>): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = tempDir();
    // NATS_OWNERSHIP=false: every node writes the cache itself (with an owner, the others would forward to it and never race).
    nodes.push({ service: await startService(dir.path, { JOURNAL: 'nats', RESP_PORT: 'off', NATS_OWNERSHIP: 'false', ...env }), dir });
  }
  return nodes;
}

async function stopNodes(nodes: Node[]): Promise<void> {
  for (const { service, dir } of nodes) {
    await stopService(service);
    dir.cleanup();
  }
}

const iron = (node: ServiceProcess, path: string, init: RequestInit = {}) =>
  fetch(`${node.url}/1/projects/${org}/caches/counters${path}`, { ...init, headers: { authorization: `OAuth ${token}`, 'content-type': 'application/json', ...init.headers } });

async function incrementRace(nodes: Node[]): Promise<void> {
  const services = nodes.map((n) => n.service);
  // Every node holds the cache before the race, so each decides on its own copy.
  expect((await iron(services[0], '/items/n', { method: 'PUT', body: JSON.stringify({ value: 0 }) })).status).toBe(200);
  for (const node of services) {
    const res = await iron(node, '/items/n');
    expect(res.status).toBe(200);
  }
  const statuses: number[] = [];
  const answered: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const node = services[client % services.length];
      for (let i = 0; i < INCREMENTS_PER_CLIENT; i++) {
        const res = await iron(node, '/items/n/increment', { method: 'POST', body: JSON.stringify({ amount: 1 }) });
        statuses.push(res.status);
        const body = (await res.json()) as { value?: number; code?: string };
        if (res.status === 200) answered.push(body.value!);
      }
    }),
  );
  const refused = statuses.filter((s) => s < 200 || s >= 300);
  expect(refused).toStrictEqual([]);
  expect(answered.length).toBe(CLIENTS * INCREMENTS_PER_CLIENT);
  // No increment was decided on a stale state: each answered a value no other did.
  expect(new Set(answered).size).toBe(answered.length);
  for (const node of services) {
    const value = await eventually(async () => Number(((await (await iron(node, '/items/n')).json()) as { value: number | string }).value), (v) => v === answered.length);
    expect(value).toBe(answered.length);
  }
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, withinMs = 10_000): Promise<T> {
  const until = Date.now() + withinMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('concurrent writers to one cache through 3 nodes (no faults)', () => {
  describe('one nats-server (R1)', () => {
    let server: NatsServer;
    let nodes: Node[] = [];
    beforeAll(async () => (server = await startSingleNats()), 60_000);
    afterAll(async () => {
      await stopNodes(nodes);
      await server.stop();
    });

    it('IronCache increments: no non-2xx, the counter equals the acknowledged increments', async () => {
      nodes = await startNodes({ NATS_URL: server.url, NATS_STREAM: 'contention1' });
      await incrementRace(nodes);
    }, 180_000);
  });

  describe('a 3-server NATS cluster (R3)', () => {
    let cluster: NatsCluster;
    let nodes: Node[] = [];
    beforeAll(async () => (cluster = await startNatsCluster()), 60_000);
    afterAll(async () => {
      await stopNodes(nodes);
      await cluster.stop();
    });

    it('IronCache increments: no non-2xx, the counter equals the acknowledged increments', async () => {
      nodes = await startNodes({ NATS_URL: cluster.url, NATS_REPLICAS: '3', NATS_STREAM: 'contention3' });
      await incrementRace(nodes);
    }, 240_000);
  });
});
