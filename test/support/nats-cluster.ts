import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from './free-port';
import { NatsServer, NatsServerSpec, startNatsServer } from './nats-server';
import { tempDir } from './temp-dir';

/**
 * Three (or `size`) nats-server processes in one JetStream cluster on loopback, with temp stores.
 * A member can be killed with `kill -9` and started again on the same store and ports.
 */
export interface NatsCluster {
  /** Every member's client URL, comma-separated (what NATS_URL takes). */
  readonly url: string;
  readonly servers: readonly NatsServer[];
  /** The name of the server leading `stream`'s replica group (undefined while none leads). */
  leaderOf(stream: string): Promise<string | undefined>;
  /** `kill -9` of member `i` (its store stays). */
  kill(i: number): Promise<void>;
  /** Starts member `i` again on its store and ports. */
  restart(i: number): Promise<void>;
  /** Stops every member and removes the stores. */
  stop(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: size }, () => freePort()));
  const dirs = ports.map(() => tempDir('cachelog-nats-cluster-'));
  const specs: NatsServerSpec[] = ports.map((port, i) => ({ name: `n${i + 1}`, port, cluster: { port: routes[i], routes }, storeDir: dirs[i].path }));
  const servers = await Promise.all(specs.map((spec) => startNatsServer(spec)));
  const url = servers.map((s) => s.url).join(',');
  await waitForJetStream(url);
  return {
    url,
    servers,
    async leaderOf(stream) {
      const nc = await connect({ servers: url.split(','), timeout: 5000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 5000 });
        return (await jsm.streams.info(stream)).cluster?.leader;
      } finally {
        await nc.close();
      }
    },
    kill: (i) => servers[i].kill(),
    async restart(i) {
      servers[i] = await startNatsServer(specs[i]);
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      for (const dir of dirs) dir.cleanup();
    },
  };
}

/** Until the cluster has a meta leader and can place an R3 stream (a probe made and dropped). */
export async function waitForJetStream(url: string, withinMs = 30_000): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      const nc = await connect({ servers: url.split(','), timeout: 2000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
        await jsm.streams.add({ name: 'probe', subjects: ['probe.>'], num_replicas: 3 });
        await jsm.streams.delete('probe');
        return;
      } finally {
        await nc.close();
      }
    } catch (error) {
      if (Date.now() > until) throw new Error(`JetStream cluster not ready: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
