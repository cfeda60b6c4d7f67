import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { tempDir } from './temp-dir';

/** Whether a `nats-server` binary is on the PATH (`.ci/run` installs the Debian package). */
export const natsServerInstalled = (): boolean => spawnSync('nats-server', ['--version']).status === 0;

export interface NatsServer {
  readonly url: string;
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** `kill -9` of the server (its store stays, for a restart with `start()` of the same spec). */
  kill(): Promise<void>;
  /** A clean stop, then its store is removed. */
  stop(): Promise<void>;
}

export interface NatsServerSpec {
  readonly name: string;
  readonly port: number;
  /** Cluster: this server's route port and every member's route port (itself included). */
  readonly cluster?: { readonly port: number; readonly routes: readonly number[] };
  readonly storeDir: string;
}

let syncs: boolean | undefined;
/**
 * Whether the installed nats-server takes `sync_interval: always` (2.10 and later): then every
 * test server fsyncs each write before acknowledging it, the safe single-server setup.
 */
export function syncAlways(): boolean {
  if (syncs === undefined) {
    const [major, minor] = (/v?(\d+)\.(\d+)/.exec(spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout ?? '') ?? []).slice(1).map(Number);
    syncs = major > 2 || (major === 2 && minor >= 10);
  }
  return syncs;
}

/** Starts a real `nats-server -js` on loopback with its store in `spec.storeDir`. */
export async function startNatsServer(spec: NatsServerSpec): Promise<NatsServer> {
  const config = [
    `server_name: ${spec.name}`,
    `listen: 127.0.0.1:${spec.port}`,
    `jetstream { store_dir: "${spec.storeDir}"${syncAlways() ? ', sync_interval: always' : ''} }`,
    ...(spec.cluster
      ? [`cluster { name: cachelog-test, listen: 127.0.0.1:${spec.cluster.port}, routes: [${spec.cluster.routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}] }`]
      : []),
  ].join('\n');
  const file = join(spec.storeDir, `${spec.name}.conf`);
  writeFileSync(file, config);
  const child = spawn('nats-server', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes('Server is ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`nats-server ${spec.name} exited before it was ready:\n${output}`)));
  });
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    // A server that does not stop within 10 s is killed: none may outlive the test file.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { url: `nats://127.0.0.1:${spec.port}`, name: spec.name, child, output: () => output, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** One JetStream server in a temp dir: `stop()` also removes its store. */
export async function startSingleNats(): Promise<NatsServer> {
  const dir = tempDir('cachelog-nats-');
  const server = await startNatsServer({ name: 'single', port: await freePort(), storeDir: dir.path });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      dir.cleanup();
    },
  };
}

/**
 * The jest hooks of a file whose tests start cachelog nodes on one nats-server: the server for
 * the file, the apps a test pushes to `apps` disposed after it (the last started first when
 * `lastFirst`: a node that compacts is stopped before the one that follows it).
 */
export function natsForFile(options: { lastFirst?: boolean } = {}): { server: NatsServer; readonly apps: Array<{ dispose(): Promise<void> }> } {
  const file = { server: undefined as unknown as NatsServer, apps: [] as Array<{ dispose(): Promise<void> }> };
  beforeAll(async () => (file.server = await startSingleNats()));
  afterEach(async () => {
    const started = file.apps.splice(0);
    for (const app of options.lastFirst ? started.reverse() : started) await app.dispose();
  });
  afterAll(() => file.server.stop());
  return file;
}
