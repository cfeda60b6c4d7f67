import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadResult, loadTool, runLoad } from './lib/load';
import { Forked, HOST, forkServer, freePort, stop, which } from './lib/procs';
import { redisPipe, respSets, startRedis, startWebdis } from './lib/redis';

/**
 * Scale-out figures: durable SET and GET hit (100 B, 10k keys) through 1, 2 and 3 cachelog
 * processes on one JetStream (one nats-server, R1), beside one process on the embedded
 * LevelDB journal. The load is split evenly over the processes (one load generator per
 * process, all at once; 50 connections in all); req/s are summed, p99 is the worst.
 * `node dist-tools/bench/cluster.js [--quick]` on its own, or as a phase of `npm run bench`.
 */
const SECRET = 'bench-secret-bench-secret-bench-secret';
const CONNECTIONS = 50;
const KEYS = 10_000;
const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function token(): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ org: 'bench', name: 'bench', serviceLevel: 'free' })}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}
const AUTH = { Authorization: `Bearer ${token()}` };

interface Node {
  readonly port: number;
  readonly forked: Forked;
  readonly dir: string;
}

/** Whether the installed nats-server takes `sync_interval: always` (2.10 and later): a durable SET is then on disk. */
function natsSyncsAlways(): boolean {
  const [major, minor] = (/v?(\d+)\.(\d+)/.exec(spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout ?? '') ?? []).slice(1).map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

async function startNatsServer(work: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const store = join(work, 'nats-store');
  const config = join(work, 'nats.conf');
  writeFileSync(config, `listen: ${HOST}:${port}\njetstream { store_dir: "${store}"${natsSyncsAlways() ? ', sync_interval: always' : ''} }\n`);
  const child = spawn('nats-server', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.includes('Server is ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => reject(new Error(`nats-server exited:\n${out}`)));
  });
  return { url: `nats://${HOST}:${port}`, child };
}

async function startNodes(count: number, env: Record<string, string>, work: string, tag: string, execArgv: string[] = []): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const dir = join(work, `${tag}-${i}`);
    const forked = forkServer(join(__dirname, 'servers', 'cachelog.js'), [], { BENCH_PORT: String(port), DATA_DIR: dir, JWT_SECRET: SECRET, JOURNAL_SYNC: 'always', ...env }, execArgv);
    await forked.ready;
    nodes.push({ port, forked, dir });
  }
  return nodes;
}

/** 10k keys of 100 B through HTTP, all through the first node (writes to one cache from several nodes contend). */
async function prefill(nodes: Node[]): Promise<void> {
  const value = 'v'.repeat(100);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < KEYS; i = next++) {
      const node = nodes[0];
      const res = await fetch(`http://${HOST}:${node.port}/bench/k${i}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/octet-stream' }, body: value });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`prefill: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, () => worker()));
}

/**
 * `set`: each process writes its own cache (what a cache-affine balancer gives); `set-shared`:
 * every process writes the one cache (writes contend: a node that loses the race reads the
 * other's events and decides again); `get`: every process reads the one prefilled cache.
 */
async function loadAll(nodes: Node[], workload: 'get' | 'set' | 'set-shared', durationS: number, work: string): Promise<{ rps: number; p99: number; errors: number }> {
  const per = Math.max(1, Math.floor(CONNECTIONS / nodes.length));
  const read = (i: number) =>
    workload === 'get'
      ? ({ method: 'GET', prefix: '/bench/k', keyed: true } as const)
      : ({ method: 'POST', prefix: workload === 'set' ? `/w${i}/k` : '/bench/k', keyed: true, body: { bytes: 100 }, contentType: 'application/octet-stream' } as const);
  const results: LoadResult[] = await Promise.all(
    nodes.map((node, i) => {
      const dir = join(work, `load-${i}`);
      mkdirSync(dir, { recursive: true });
      return runLoad({ port: node.port, headers: AUTH, read: read(i), writePct: 0, keys: KEYS, durationS, connections: per }, dir);
    }),
  );
  return { rps: results.reduce((n, r) => n + r.rps, 0), p99: Math.max(...results.map((r) => r.p99Ms)), errors: results.reduce((n, r) => n + r.errors, 0) };
}

/**
 * The baseline beside the rows: Redis (`appendfsync always`) behind webdis, one load generator
 * with all the connections; SET writes its own keys, GET reads 10k prefilled ones.
 */
async function webdisRow(work: string, runs: number, durationS: number): Promise<string | undefined> {
  if (!which('redis-server') || !which('webdis')) {
    log('redis-server or webdis is not installed (apt-get install -y redis-server webdis): the webdis + Redis row is left out');
    return undefined;
  }
  const redis = await startRedis(join(work, 'redis'), true);
  const webdis = await startWebdis(work, redis.port);
  try {
    const file = join(work, 'prefill.resp');
    respSets(file, KEYS, KEYS, 100);
    redisPipe(redis.port, file);
    const dir = join(work, 'load-webdis');
    mkdirSync(dir, { recursive: true });
    const load = (read: Parameters<typeof runLoad>[0]['read']) => runLoad({ port: webdis.port, headers: {}, read, writePct: 0, keys: KEYS, durationS, connections: CONNECTIONS }, dir);
    const sets: LoadResult[] = [];
    const gets: LoadResult[] = [];
    for (let r = 0; r < runs; r++) {
      sets.push(await load({ method: 'PUT', prefix: '/SET/w', keyed: true, body: { bytes: 100 }, contentType: 'application/octet-stream' }));
      gets.push(await load({ method: 'GET', prefix: '/GET/k', suffix: '.txt', keyed: true }));
    }
    const set = median(sets.map((x) => x.rps));
    const get = median(gets.map((x) => x.rps));
    log(`cluster ${'webdis + Redis (appendfsync always), one process'.padEnd(48)} SET ${fmt(set).padStart(7)} req/s  GET ${fmt(get).padStart(7)} req/s`);
    return `| webdis + Redis (\`appendfsync always\`), for comparison | ${fmt(set)} | ${fmt(median(sets.map((x) => x.p99Ms)), 1)} | – | – | ${fmt(get)} | ${fmt(median(gets.map((x) => x.p99Ms)), 1)} |`;
  } finally {
    await stop(webdis.child);
    await stop(redis.child);
  }
}

/** Runs the scale-out phase; answers the markdown section (empty when nats-server is missing). */
export async function clusterFigures(quick: boolean): Promise<string[]> {
  if (!which('nats-server')) {
    log('nats-server is not installed (apt-get install -y nats-server): the scale-out figures are left out');
    return [];
  }
  const runs = quick ? 1 : 3;
  const durationS = quick ? 2 : 5;
  const work = mkdtempSync(join(tmpdir(), 'cachelog-bench-cluster-'));
  const nats = await startNatsServer(work);
  const rows: string[] = [
    '| setup | durable SET req/s (a cache per process) | SET p99 ms | durable SET req/s (one cache) | non-2xx | GET hit req/s | GET p99 ms |',
    '|---|---|---|---|---|---|---|',
  ];
  const setups: Array<{ title: string; count: number; env: Record<string, string> }> = [
    { title: '1 process, LevelDB journal (embedded default)', count: 1, env: {} },
    { title: '1 process, NATS journal', count: 1, env: { JOURNAL: 'nats', NATS_URL: nats.url } },
    { title: '2 processes, one NATS journal', count: 2, env: { JOURNAL: 'nats', NATS_URL: nats.url } },
    { title: '3 processes, one NATS journal', count: 3, env: { JOURNAL: 'nats', NATS_URL: nats.url } },
  ];
  try {
    for (const [i, setup] of setups.entries()) {
      // Each NATS setup on a stream of its own, so they start equal.
      const nodes = await startNodes(setup.count, { ...setup.env, NATS_STREAM: `bench${i}` }, work, `s${i}`);
      try {
        await prefill(nodes);
        type Figure = { rps: number; p99: number; errors: number };
        const sets: Figure[] = [];
        const shared: Figure[] = [];
        const gets: Figure[] = [];
        for (let r = 0; r < runs; r++) {
          sets.push(await loadAll(nodes, 'set', durationS, work));
          shared.push(await loadAll(nodes, 'set-shared', durationS, work));
          gets.push(await loadAll(nodes, 'get', durationS, work));
        }
        const row = {
          set: median(sets.map((x) => x.rps)),
          setP99: median(sets.map((x) => x.p99)),
          shared: median(shared.map((x) => x.rps)),
          sharedErrors: shared.reduce((n, x) => n + x.errors, 0),
          get: median(gets.map((x) => x.rps)),
          getP99: median(gets.map((x) => x.p99)),
        };
        log(
          `cluster ${setup.title.padEnd(48)} SET ${fmt(row.set).padStart(7)} req/s p99 ${fmt(row.setP99, 1)} ms  one-cache SET ${fmt(row.shared).padStart(7)} req/s (${row.sharedErrors} non-2xx)  GET ${fmt(row.get).padStart(7)} req/s p99 ${fmt(row.getP99, 1)} ms`,
        );
        rows.push(`| ${setup.title} | ${fmt(row.set)} | ${fmt(row.setP99, 1)} | ${fmt(row.shared)} | ${row.sharedErrors} | ${fmt(row.get)} | ${fmt(row.getP99, 1)} |`);
      } finally {
        for (const node of nodes) await stop(node.forked.child);
      }
    }
    const baseline = await webdisRow(work, runs, durationS);
    if (baseline !== undefined) rows.push(baseline);
  } finally {
    await stop(nats.child);
    rmSync(work, { recursive: true, force: true });
  }
  return [
    '## Scale-out over NATS JetStream',
    '',
    `${runs} run(s) of ${durationS} s per setup, ${CONNECTIONS} connections split evenly over the processes (one ${loadTool()} per process, all at once), 100 B values, 10k keys; one nats-server (JetStream, file store, R1, ${natsSyncsAlways() ? '`sync_interval: always`: a 2xx is on disk' : 'nats-server < 2.10 has no `sync_interval`: a 2xx is on the server, synced within 2 minutes'}) on the same machine; medians, req/s summed over the processes, p99 the worst of them. ` +
      '"A cache per process": each process\'s load writes its own cache, as a cache-affine balancer would send it; "one cache": every process writes the same cache, so appends contend (the loser catches up on the winner\'s events and decides again, for up to NATS_TIMEOUT_MS; only then 503 JOURNAL_CONTENDED, counted as non-2xx). ' +
      'Each process publishes a cache\'s group commit (the writes queued while the previous one was in flight) as one JetStream message.',
    '',
    ...rows,
    '',
    `This machine has ${cpus().length} cores shared by the load generators, nats-server and every cachelog process: the rows show the NATS journal's overhead, not scale. ` +
      'A durable SET on NATS is part of a group\'s JetStream publish and its acknowledgement (a network round trip and the server\'s write; one per group per cache, as a LevelDB group commit is one fsync) and the writing node applying it to its read models from the stream; GETs are served from memory either way. ' +
      'On a machine with a core per process (and NATS on its own machines), GET throughput grows with the processes until the load balancer or network is the limit, and SET throughput with them until the stream leader is.',
    '',
  ];
}

/** CPU time (user + system) a process has used so far, in µs, from /proc (Linux). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the command name), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * `--cpu-per-write=N`: N NATS processes under the one-cache load only, `runs` times, and the CPU
 * each cachelog process and nats-server spent per write (from /proc: less sensitive to other
 * load on the machine than req/s). `--cpu-prof=<dir>` also writes a V8 CPU profile per process;
 * BENCH_NODE_ARGS (space-separated) are further node options for the cachelog processes.
 */
async function cpuPerWrite(count: number, runs: number, durationS: number, profDir: string | undefined): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'cachelog-bench-cpu-'));
  const nats = await startNatsServer(work);
  const execArgv = [...(profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]), ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  try {
    const metricsToken = 'bench-metrics-token';
    const nodes = await startNodes(count, { JOURNAL: 'nats', NATS_URL: nats.url, NATS_STREAM: 'cpu', METRICS_TOKEN: metricsToken }, work, 'cpu', execArgv);
    // Commands a node ran for others: the owner of the one cache is the node whose count grew.
    const served = async (node: Node): Promise<number> => {
      const text = await (await fetch(`http://${HOST}:${node.port}/metrics`, { headers: { Authorization: `Bearer ${metricsToken}` } })).text();
      return Number(/cachelog_forwarded_commands_total\{outcome="served"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    try {
      await prefill(nodes);
      for (let r = 0; r < runs; r++) {
        const pids = [...nodes.map((n) => n.forked.child.pid!), nats.child.pid!];
        const servedBefore = await Promise.all(nodes.map(served));
        const before = pids.map(cpuMicros);
        const result = await loadAll(nodes, 'set-shared', durationS, work);
        const writes = result.rps * durationS;
        const perWrite = pids.map((pid, i) => (cpuMicros(pid) - before[i]) / writes);
        const servedAfter = await Promise.all(nodes.map(served));
        const role = (i: number) => (i >= nodes.length ? 'nats-server' : servedAfter[i] > servedBefore[i] ? `owner (node ${i})` : `node ${i}`);
        log(
          `cpu-per-write ${count} process(es): ${fmt(result.rps)} req/s (${result.errors} non-2xx); µs of CPU per write: ${perWrite
            .map((us, i) => `${role(i)} ${fmt(us)}`)
            .join(', ')}; cachelog processes together ${fmt(perWrite.slice(0, nodes.length).reduce((a, b) => a + b, 0))}`,
        );
      }
    } finally {
      for (const node of nodes) await stop(node.forked.child);
    }
  } finally {
    await stop(nats.child);
    rmSync(work, { recursive: true, force: true });
  }
}

const argValue = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

if (require.main === module && argValue('cpu-per-write') !== undefined) {
  cpuPerWrite(Number(argValue('cpu-per-write')), Number(argValue('runs') ?? 3), Number(argValue('seconds') ?? 5), argValue('cpu-prof')).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else if (require.main === module) {
  clusterFigures(process.argv.includes('--quick')).then(
    (lines) => log(lines.join('\n')),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
