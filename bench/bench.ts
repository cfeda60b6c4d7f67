/* eslint-disable @typescript-eslint/no-require-imports */
import { ChildProcess, execSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { LoadResult, LoadSpec, RequestSpec, loadTool, runLoad } from './lib/load';
import { clusterFigures } from './cluster';
import { neighbourFigures } from './neighbour';
import { respFigures } from './resp';
import { Forked, HOST, forkServer, freePort, run, stop, which } from './lib/procs';
import { aofRewriteDone, redisCli, redisPipe, respSets, startRedis, startWebdis } from './lib/redis';

/**
 * `npm run bench [-- --quick]`: cachelog (from dist/) beside bare Fastify, bare NestJS on
 * Fastify and Redis (appendfsync always) behind webdis, loaded from a separate process on
 * loopback, targets alternated; then recovery and memory. Ends with one table, also
 * written to docs/benchmarks.md.
 */
const QUICK = process.argv.includes('--quick');
/** `--only=recovery,throughput`: run just those phases and print them (docs/ is not written). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const PHASES = ['layers', 'throughput', 'resp', 'curve', 'recovery', 'cluster', 'neighbour'] as const;
if (ONLY?.some((p) => !(PHASES as readonly string[]).includes(p))) throw new Error(`--only takes ${PHASES.join(', ')}`);
const runs = (phase: (typeof PHASES)[number]) => ONLY === undefined || ONLY.includes(phase);
const RUNS = QUICK ? 1 : 3;
const DURATION_S = QUICK ? 2 : 5;
const CONNECTIONS = 50;
const KEYS = 10_000;
const RECOVERY_EVENTS = QUICK ? 100_000 : 1_000_000;
const ROOT = join(__dirname, '..', '..');
const TOOLS = join(__dirname);
const SECRET = 'bench-secret-bench-secret-bench-secret';
const work = mkdtempSync(join(tmpdir(), 'cachelog-bench-'));
const log = (line: string) => process.stdout.write(`${line}\n`);

type Target = 'cachelog' | 'fastify' | 'nest' | 'webdis';
const TARGET_NAMES: Record<Target, string> = { cachelog: 'cachelog', fastify: 'bare Fastify', nest: 'bare NestJS', webdis: 'webdis + Redis' };

function token(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}
const AUTH = { Authorization: `Bearer ${token({ org: 'bench', name: 'bench', serviceLevel: 'free' })}` };

// ---------------------------------------------------------------- servers

interface Running {
  readonly port: number;
  readonly child: ChildProcess;
  readonly forked?: Forked;
  readonly extra?: ChildProcess;
}

const serverScript = (name: string) => join(TOOLS, 'servers', `${name}.js`);

async function startNode(name: string, env: Record<string, string>, execArgv: string[] = []): Promise<Running & { forked: Forked; readyMs: number }> {
  const port = await freePort();
  const started = Date.now();
  const forked = forkServer(serverScript(name), [], { BENCH_PORT: String(port), ...env }, execArgv);
  await forked.ready;
  return { port, child: forked.child, forked, readyMs: Date.now() - started };
}

const cachelogEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  DATA_DIR: dataDir,
  JWT_SECRET: SECRET,
  JOURNAL_SYNC: 'always',
  ...extra,
});

function redisInfo(port: number, field: string): number {
  const info = redisCli(port, 'info', 'memory');
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : NaN;
}

/** Time (ms) until a GET of `path` is answered (with any status). */
async function timeGet(port: number, path: string): Promise<{ ms: number; status: number }> {
  const started = Date.now();
  const response = await fetch(`http://${HOST}:${port}${path}`, { headers: AUTH });
  await response.arrayBuffer();
  return { ms: Date.now() - started, status: response.status };
}

// ---------------------------------------------------------------- workloads

interface Workload {
  readonly id: string;
  readonly title: string;
  readonly specs: Partial<Record<Target, Omit<LoadSpec, 'port' | 'durationS' | 'connections'>>>;
}

const get100 = (prefix: string, suffix = ''): RequestSpec => ({ method: 'GET', prefix, suffix, keyed: true });
const set100 = (method: 'POST' | 'PUT', prefix: string, bytes = 100): RequestSpec => ({ method, prefix, keyed: true, body: { bytes }, contentType: 'application/octet-stream' });
const batchBody = JSON.stringify({ getCachedBatch: Array.from({ length: 100 }, (_, i) => ({ cacheName: 'bench', key: `k${i * 97}` })) });
const batchGet: RequestSpec = { method: 'POST', prefix: '/batch/get', keyed: false, body: batchBody, contentType: 'application/json' };
const mget: RequestSpec = { method: 'GET', prefix: `/MGET/${Array.from({ length: 100 }, (_, i) => `k${i * 97}`).join('/')}`, keyed: false };

const WORKLOADS: Workload[] = [
  {
    id: 'get',
    title: 'GET hit, 100 B, 10k keys',
    specs: {
      cachelog: { headers: AUTH, read: get100('/bench/k'), writePct: 0, keys: KEYS },
      fastify: { headers: {}, read: get100('/bench/k'), writePct: 0, keys: KEYS },
      nest: { headers: {}, read: get100('/bench/k'), writePct: 0, keys: KEYS },
      webdis: { headers: {}, read: get100('/GET/k', '.txt'), writePct: 0, keys: KEYS },
    },
  },
  {
    id: 'set',
    title: 'durable SET, 100 B, 10k keys',
    specs: {
      cachelog: { headers: AUTH, read: set100('POST', '/bench/k'), writePct: 0, keys: KEYS },
      fastify: { headers: {}, read: set100('POST', '/bench/k'), writePct: 0, keys: KEYS },
      nest: { headers: {}, read: set100('POST', '/bench/k'), writePct: 0, keys: KEYS },
      webdis: { headers: {}, read: set100('PUT', '/SET/k'), writePct: 0, keys: KEYS },
    },
  },
  // The same GET and durable SET through the Upstash-style Redis REST API (the Redis command engine), beside the native binary routes.
  {
    id: 'rget',
    title: 'GET hit via /redis (Upstash REST), 100 B, 10k keys',
    specs: { cachelog: { headers: AUTH, read: get100('/redis/db/bench/get/k'), writePct: 0, keys: KEYS } },
  },
  {
    id: 'rset',
    title: 'durable SET via /redis (Upstash REST), 100 B, 10k keys',
    specs: { cachelog: { headers: AUTH, read: set100('POST', '/redis/db/bench/set/k'), writePct: 0, keys: KEYS } },
  },
  {
    id: 'mix',
    title: '95 % GET / 5 % SET, 100 B',
    specs: {
      cachelog: { headers: AUTH, read: get100('/bench/k'), write: set100('POST', '/bench/k'), writePct: 5, keys: KEYS },
      fastify: { headers: {}, read: get100('/bench/k'), write: set100('POST', '/bench/k'), writePct: 5, keys: KEYS },
      nest: { headers: {}, read: get100('/bench/k'), write: set100('POST', '/bench/k'), writePct: 5, keys: KEYS },
      webdis: { headers: {}, read: get100('/GET/k', '.txt'), write: set100('PUT', '/SET/k'), writePct: 5, keys: KEYS },
    },
  },
  {
    id: 'big',
    title: 'durable SET, 1 MiB, 16 keys',
    specs: {
      cachelog: { headers: AUTH, read: set100('POST', '/big/b', 1 << 20), writePct: 0, keys: 16 },
      fastify: { headers: {}, read: set100('POST', '/big/b', 1 << 20), writePct: 0, keys: 16 },
      nest: { headers: {}, read: set100('POST', '/big/b', 1 << 20), writePct: 0, keys: 16 },
      webdis: { headers: {}, read: set100('PUT', '/SET/b', 1 << 20), writePct: 0, keys: 16 },
    },
  },
  {
    id: 'batch',
    title: 'POST /batch/get, 100 keys',
    specs: {
      cachelog: { headers: AUTH, read: batchGet, writePct: 0, keys: 1 },
      fastify: { headers: {}, read: batchGet, writePct: 0, keys: 1 },
      nest: { headers: {}, read: batchGet, writePct: 0, keys: 1 },
      webdis: { headers: {}, read: mget, writePct: 0, keys: 1 },
    },
  },
];

const median = (values: number[]) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ---------------------------------------------------------------- report

interface Row {
  readonly figure: string;
  readonly values: Partial<Record<Target | 'redis', string>>;
  readonly ratios: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

function versions(): Record<string, string> {
  const v = (pkg: string) => {
    try {
      return (require(join(ROOT, 'node_modules', pkg, 'package.json')) as { version: string }).version;
    } catch {
      return 'n/a';
    }
  };
  const firstLine = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0];
    } catch {
      return 'not installed';
    }
  };
  return {
    node: process.version,
    cachelog: (require(join(ROOT, 'package.json')) as { version: string }).version,
    fastify: v('fastify'),
    '@nestjs/core': v('@nestjs/core'),
    level: v('level'),
    'classic-level': v('classic-level'),
    redis: which('redis-server') ? firstLine('redis-server --version') : 'not installed',
    webdis: which('webdis') ? firstLine("dpkg-query -W -f='${Version}' webdis 2>/dev/null || echo installed") : 'not installed',
    wrk: which('wrk') ? firstLine('wrk --version 2>&1 || true') : 'not installed',
    autocannon: v('autocannon'),
  };
}

// ---------------------------------------------------------------- phases

async function throughput(): Promise<void> {
  const haveRedis = !!which('redis-server');
  const haveWebdis = !!which('webdis');
  if (!haveRedis) log('redis-server is not installed (apt-get install -y redis-server): the Redis baseline is left out');
  if (!haveWebdis) log('webdis is not installed (apt-get install -y webdis): the webdis + Redis baseline is left out');
  if (!which('wrk')) log('wrk is not installed (apt-get install -y wrk): using autocannon as the load generator');

  const servers: Partial<Record<Target, Running>> = {};
  const cachelogDir = join(work, 'throughput-cachelog');
  servers.cachelog = await startNode('cachelog', cachelogEnv(cachelogDir, { MAX_VALUE_BYTES: String(2 << 20) }));
  servers.fastify = await startNode('bare-fastify', {});
  servers.nest = await startNode('bare-nest', {});
  let redis: { port: number; child: ChildProcess } | undefined;
  if (haveRedis && haveWebdis) {
    redis = await startRedis(join(work, 'throughput-redis'), true);
    const webdis = await startWebdis(work, redis.port);
    servers.webdis = { port: webdis.port, child: webdis.child, extra: redis.child };
  }
  try {
    log('prefilling 10k keys of 100 B');
    await servers.cachelog.forked!.request({ cmd: 'fill', org: 'bench', cache: 'bench', sets: KEYS, keys: KEYS, valueBytes: 100 });
    if (redis) {
      const file = join(work, 'prefill.resp');
      respSets(file, KEYS, KEYS, 100);
      redisPipe(redis.port, file);
    }
    const targets = (Object.keys(servers) as Target[]).filter((t) => servers[t]);
    for (const workload of WORKLOADS) {
      const results: Partial<Record<Target, LoadResult[]>> = {};
      for (let r = 0; r < RUNS; r++) {
        for (const target of targets) {
          const spec = workload.specs[target];
          if (!spec) continue;
          const result = await runLoad({ ...spec, port: servers[target]!.port, durationS: DURATION_S, connections: CONNECTIONS }, work);
          (results[target] ??= []).push(result);
          log(`${workload.id.padEnd(6)} run ${r + 1}/${RUNS} ${TARGET_NAMES[target].padEnd(15)} ${fmt(result.rps).padStart(8)} req/s  p50 ${fmt(result.p50Ms, 2)} ms  p99 ${fmt(result.p99Ms, 2)} ms  errors ${result.errors}`);
        }
      }
      const rps = (t: Target) => median((results[t] ?? []).map((x) => x.rps));
      const p99 = (t: Target) => median((results[t] ?? []).map((x) => x.p99Ms));
      const ratio = (base: Target) => {
        const a = results.cachelog ?? [];
        const b = results[base] ?? [];
        return median(a.map((x, i) => (b[i] ? x.rps / b[i].rps : NaN)));
      };
      const ratios = targets.filter((t) => t !== 'cachelog' && results[t] !== undefined).map((t) => `${fmt(ratio(t), 2)}× ${TARGET_NAMES[t]}`).join(', ');
      const errors = (t: Target) => (results[t] ?? []).reduce((n, x) => n + x.errors, 0);
      rows.push({
        figure: `${workload.title}: req/s`,
        values: Object.fromEntries(targets.map((t) => [t, fmt(rps(t))])),
        ratios,
      });
      rows.push({ figure: `${workload.title}: p99 ms`, values: Object.fromEntries(targets.map((t) => [t, fmt(p99(t), 2)])), ratios: '' });
      for (const t of targets) if (errors(t) > 0) notes.push(`${workload.title}: ${TARGET_NAMES[t]} had ${errors(t)} errors or non-2xx answers`);
    }
  } finally {
    for (const server of Object.values(servers)) {
      await stop(server?.child);
      await stop(server?.extra);
    }
    rmSync(cachelogDir, { recursive: true, force: true });
  }
}

interface Mem {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

interface Dataset {
  readonly id: string;
  readonly title: string;
  readonly sets: number;
  readonly keys: number;
}

async function recovery(): Promise<void> {
  const haveRedis = !!which('redis-server');
  const datasets: Dataset[] = [
    { id: 'distinct', title: `${fmt(RECOVERY_EVENTS)} events, ${fmt(RECOVERY_EVENTS)} distinct keys`, sets: RECOVERY_EVENTS, keys: RECOVERY_EVENTS },
    { id: 'overwrite', title: `${fmt(RECOVERY_EVENTS)} events over ${fmt(RECOVERY_EVENTS / 10)} keys`, sets: RECOVERY_EVENTS, keys: RECOVERY_EVENTS / 10 },
  ];
  const execArgv = ['--expose-gc'];
  // An empty service, for the memory baseline.
  const emptyDir = join(work, 'empty');
  const empty = await startNode('cachelog', cachelogEnv(emptyDir), execArgv);
  const memEmpty = await empty.forked.request<Mem>({ cmd: 'mem' });
  await stop(empty.child);

  for (const d of datasets) {
    const dir = join(work, `recovery-${d.id}`);
    log(`recovery: writing ${d.title} (cachelog, through the entity registry)`);
    const filler = await startNode('cachelog', cachelogEnv(dir, { JOURNAL_SYNC: 'none' }));
    const fill = await filler.forked.request<{ ms: number }>({ cmd: 'fill', org: 'bench', cache: 'big', sets: d.sets, keys: d.keys, valueBytes: 100 });
    await stop(filler.child, 'SIGTERM', 120_000); // clean shutdown: snapshots written
    run(process.execPath, [serverScript('drop-snapshots'), dir, '--settle']);
    log(`  filled in ${fill.ms} ms`);

    const withSnapshot = await startNode('cachelog', cachelogEnv(dir), execArgv);
    // The service listens at once; the cache recovers on its first request.
    const snapshotGet = await timeGet(withSnapshot.port, '/big/k0');
    let mem: Mem | undefined;
    if (d.id === 'distinct') mem = await withSnapshot.forked.request({ cmd: 'mem' });
    await stop(withSnapshot.child, 'SIGKILL');
    run(process.execPath, [serverScript('drop-snapshots'), dir]);
    run(process.execPath, [serverScript('drop-snapshots'), dir, '--settle']);
    const journalOnly = await startNode('cachelog', cachelogEnv(dir), execArgv);
    const journalGet = await timeGet(journalOnly.port, '/big/k0');
    if (d.id === 'distinct') {
      const memReplay = await journalOnly.forked.request<Mem>({ cmd: 'mem' });
      notes.push(
        `memory after a full replay instead of a snapshot load: ${fmt((memReplay.rss - memEmpty.rss) / d.keys)} B RSS/key, ${fmt((memReplay.heapUsed + memReplay.external - memEmpty.heapUsed - memEmpty.external) / d.keys)} B heap + external/key`,
      );
    }
    await stop(journalOnly.child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    const journalMs = journalOnly.readyMs + journalGet.ms;
    const snapshotMs = withSnapshot.readyMs + snapshotGet.ms;
    log(`  cachelog restart (listening + first GET of the cache): journal only ${journalOnly.readyMs} + ${journalGet.ms} ms, with snapshot ${withSnapshot.readyMs} + ${snapshotGet.ms} ms`);

    let redisAof = NaN;
    let redisRdb = NaN;
    let redisMem = NaN;
    if (haveRedis) {
      const rdir = join(work, `redis-${d.id}`);
      const first = await startRedis(rdir, true);
      redisCli(first.port, 'config', 'set', 'appendfsync', 'everysec'); // only to write the data faster
      const emptyUsed = redisInfo(first.port, 'used_memory');
      const file = join(work, `${d.id}.resp`);
      respSets(file, d.sets, d.keys, 100);
      redisPipe(first.port, file);
      rmSync(file);
      redisCli(first.port, 'config', 'set', 'appendfsync', 'always');
      const used = redisInfo(first.port, 'used_memory');
      redisMem = (used - emptyUsed) / d.keys;
      redisCli(first.port, 'save'); // dump.rdb of the same data
      await stop(first.child);
      const aof = await startRedis(rdir, true);
      redisAof = aof.readyMs;
      await stop(aof.child, 'SIGKILL');
      const rdb = await startRedis(rdir, false);
      redisRdb = rdb.readyMs;
      await stop(rdb.child, 'SIGKILL');
      rmSync(rdir, { recursive: true, force: true });
      log(`  redis restart: AOF ${redisAof} ms, RDB ${redisRdb} ms`);
    }
    const eps = (ms: number) => fmt(d.sets / (ms / 1000));
    rows.push({
      figure: `restart until the cache is fully recovered, ${d.title}, journal only / AOF: s (events/s)`,
      values: { cachelog: `${fmt(journalMs / 1000, 2)} (${eps(journalMs)})`, redis: `${fmt(redisAof / 1000, 2)} (${eps(redisAof)})` },
      ratios: `${fmt(redisAof / journalMs, 2)}× Redis AOF speed`,
    });
    rows.push({
      figure: `restart until the cache is fully recovered, ${d.title}, with snapshot / RDB: s`,
      values: { cachelog: fmt(snapshotMs / 1000, 2), redis: fmt(redisRdb / 1000, 2) },
      ratios: `${fmt(redisRdb / snapshotMs, 2)}× Redis RDB speed`,
    });
    if (mem) {
      const rssPerKey = (mem.rss - memEmpty.rss) / d.keys;
      const heapPerKey = (mem.heapUsed + mem.external - memEmpty.heapUsed - memEmpty.external) / d.keys;
      rows.push({ figure: `memory per key, ${fmt(d.keys)} keys × 100 B: RSS B`, values: { cachelog: fmt(rssPerKey), redis: `${fmt(redisMem)} (used_memory)` }, ratios: `${fmt(rssPerKey / redisMem, 2)}× Redis` });
      rows.push({ figure: `memory per key, ${fmt(d.keys)} keys × 100 B: V8 heap + external (slabs) B`, values: { cachelog: fmt(heapPerKey), redis: `${fmt(redisMem)} (used_memory)` }, ratios: `${fmt(heapPerKey / redisMem, 2)}× Redis` });
    }
  }
}

// ---------------------------------------------------------------- per-layer cost of a durable SET

const LAYERS: Array<{ id: string; title: string }> = [
  { id: 'bare', title: 'bare Fastify POST (stores nothing)' },
  { id: 'token', title: '+ token check' },
  { id: 'decide', title: '+ decide and evolve in memory' },
  { id: 'journal-none', title: '+ entity and LevelDB journal, sync off' },
  { id: 'journal-always', title: '+ sync always (fsync before the reply)' },
  { id: 'cachelog', title: 'cachelog as shipped (NestJS, fast routes, JOURNAL_SYNC=always)' },
];
const layerRows: string[] = [];

async function layers(): Promise<void> {
  const servers: Record<string, Running> = {};
  const dirs: string[] = [];
  try {
    for (const { id } of LAYERS) {
      const dir = join(work, `layer-${id}`);
      dirs.push(dir);
      if (id === 'bare') servers[id] = await startNode('bare-fastify', {});
      else if (id === 'cachelog') servers[id] = await startNode('cachelog', cachelogEnv(dir));
      else servers[id] = await startNode('layers', { LAYER: id, DATA_DIR: dir, JWT_SECRET: SECRET });
    }
    const results: Record<string, LoadResult[]> = {};
    for (let r = 0; r < RUNS; r++) {
      for (const { id } of LAYERS) {
        const result = await runLoad({ headers: AUTH, read: set100('POST', '/bench/k'), writePct: 0, keys: KEYS, port: servers[id].port, durationS: DURATION_S, connections: CONNECTIONS }, work);
        (results[id] ??= []).push(result);
        log(`layers run ${r + 1}/${RUNS} ${id.padEnd(15)} ${fmt(result.rps).padStart(8)} req/s  p50 ${fmt(result.p50Ms, 2)} ms  p99 ${fmt(result.p99Ms, 2)} ms  errors ${result.errors}`);
      }
    }
    const bare = results.bare;
    layerRows.push('| layer | req/s | p99 ms | × bare Fastify POST |', '|---|---|---|---|');
    for (const { id, title } of LAYERS) {
      const mine = results[id];
      const ratio = median(mine.map((x, i) => x.rps / bare[i].rps));
      layerRows.push(`| ${title} | ${fmt(median(mine.map((x) => x.rps)))} | ${fmt(median(mine.map((x) => x.p99Ms)), 2)} | ${fmt(ratio, 2)} |`);
      const errors = mine.reduce((n, x) => n + x.errors, 0);
      if (errors > 0) notes.push(`per-layer table: ${title} had ${errors} errors or non-2xx answers`);
    }
  } finally {
    for (const server of Object.values(servers)) await stop(server.child);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- restart curve

const CURVE_KEYS = [0, 10_000, 100_000, 1_000_000];
const curveRows: string[] = [];

/**
 * Start-up by data size: the service listens and answers its first request (another
 * cache) without loading any cache; a cache recovers on its first use. After a clean stop
 * (snapshots written) and after `kill -9` (the tail since the last snapshot replayed).
 */
async function restartCurve(): Promise<void> {
  curveRows.push(
    '| keys (100 B, one cache) | stop | listening s | first served request (another cache) s | × empty start | the cache fully recovered (its first GET) s |',
    '|---|---|---|---|---|---|',
  );
  let emptyFirst = NaN;
  let killRecovered: { keys: number; ms: number } | undefined;
  for (const keys of CURVE_KEYS) {
    const dir = join(work, `curve-${keys}`);
    if (keys > 0) {
      log(`restart curve: writing ${fmt(keys)} keys`);
      const filler = await startNode('cachelog', cachelogEnv(dir, { JOURNAL_SYNC: 'none' }));
      await filler.forked.request({ cmd: 'fill', org: 'bench', cache: 'big', sets: keys, keys, valueBytes: 100 });
      await stop(filler.child, 'SIGTERM', 120_000);
    }
    for (const stopKind of ['clean', 'kill -9'] as const) {
      if (keys === 0 && stopKind === 'kill -9') continue;
      const spawned = Date.now();
      const server = await startNode('cachelog', cachelogEnv(dir));
      const other = await timeGet(server.port, '/other/k');
      const firstServed = Date.now() - spawned;
      const own = await timeGet(server.port, '/big/k0');
      const recovered = Date.now() - spawned;
      if (keys === 0) emptyFirst = firstServed;
      if (stopKind === 'clean' && keys > 0) {
        // Writes after the last snapshot, then kill -9: the next start replays that tail.
        await server.forked.request({ cmd: 'fill', org: 'bench', cache: 'big', sets: Math.min(keys, 50_000), keys, valueBytes: 100 });
        await stop(server.child, 'SIGKILL');
      } else await stop(server.child, keys === 0 ? 'SIGTERM' : 'SIGKILL');
      log(`  ${fmt(keys)} keys after ${stopKind}: listening ${server.readyMs} ms, first request ${firstServed} ms (${other.status}), cache recovered ${recovered} ms (${own.status})`);
      if (stopKind === 'kill -9' && keys === CURVE_KEYS[CURVE_KEYS.length - 1]) killRecovered = { keys, ms: recovered };
      curveRows.push(
        `| ${fmt(keys)} | ${stopKind} | ${fmt(server.readyMs / 1000, 2)} | ${fmt(firstServed / 1000, 2)} | ${fmt(firstServed / emptyFirst, 2)} | ${keys === 0 ? '–' : fmt(recovered / 1000, 2)} |`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  if (killRecovered && which('redis-server')) {
    const tail = Math.min(killRecovered.keys, 50_000);
    const redisMs = await redisDefaultAofKillRestart(killRecovered.keys, tail);
    log(`  redis (default AOF: RDB preamble + tail, everysec) after kill -9: ${redisMs} ms`);
    rows.push({
      figure: `restart after kill -9 under default settings, ${fmt(killRecovered.keys)} keys + ${fmt(tail)} writes since the last snapshot / AOF rewrite: s`,
      values: { cachelog: fmt(killRecovered.ms / 1000, 2), redis: `${fmt(redisMs / 1000, 2)} (default AOF)` },
      ratios: `${fmt(redisMs / killRecovered.ms, 2)}× Redis default AOF speed`,
    });
  }
}

/**
 * Redis 7's default persistence (AOF with an RDB preamble, everysec): `keys` keys, a rewrite
 * (the RDB base), `tail` more writes (the AOF tail), kill -9, then the time from spawning it
 * until it answers PING, which it does once both are loaded.
 */
async function redisDefaultAofKillRestart(keys: number, tail: number): Promise<number> {
  const dir = join(work, 'redis-default-aof');
  const first = await startRedis(dir, 'default');
  const file = join(work, 'default-aof.resp');
  respSets(file, keys, keys, 100);
  redisPipe(first.port, file);
  redisCli(first.port, 'bgrewriteaof');
  await aofRewriteDone(first.port);
  respSets(file, tail, keys, 100);
  redisPipe(first.port, file);
  rmSync(file);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // everysec: the tail reaches the disk
  await stop(first.child, 'SIGKILL');
  const again = await startRedis(dir, 'default');
  const size = Number(redisCli(again.port, 'dbsize'));
  if (size !== keys) throw new Error(`redis came back with ${size} keys, not ${keys}`);
  await stop(again.child, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return again.readyMs;
}

function table(): string {
  const header = ['figure', 'cachelog', 'bare Fastify', 'bare NestJS', 'webdis + Redis', 'Redis', 'ratio'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const v = row.values;
    lines.push(`| ${[row.figure, v.cachelog ?? '', v.fastify ?? '', v.nest ?? '', v.webdis ?? '', v.redis ?? '', row.ratios].join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const uptimeBefore = execSync('uptime', { encoding: 'utf8' }).trim();
  const started = Date.now();
  log(`cachelog benchmark${QUICK ? ' (--quick)' : ''}: ${RUNS} run(s) of ${DURATION_S} s per target and workload, ${CONNECTIONS} connections, load by ${loadTool()}`);
  log(`load before: ${uptimeBefore}`);
  if (!existsSync(join(ROOT, 'dist', 'app.factory.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  if (runs('layers')) await layers();
  if (runs('throughput')) await throughput();
  const respRows = runs('resp')
    ? await respFigures({ quick: QUICK, serverScript: serverScript('cachelog'), env: cachelogEnv(''), token: token({ org: 'bench', name: 'bench', serviceLevel: 'free' }) })
    : [];
  for (const line of respRows) log(line);
  if (runs('curve')) await restartCurve();
  if (runs('recovery')) await recovery();
  const clusterRows = runs('cluster') ? await clusterFigures(QUICK) : [];
  const neighbourRows = runs('neighbour') ? await neighbourFigures({ quick: QUICK, serverScript: serverScript('cachelog'), env: cachelogEnv(''), token }) : [];
  const uptimeAfter = execSync('uptime', { encoding: 'utf8' }).trim();
  const tableText = table();
  log('');
  const v = versions();
  const cpu = cpus();
  const extra = existsSync(join(ROOT, 'bench', 'notes.md')) ? readFileSync(join(ROOT, 'bench', 'notes.md'), 'utf8') : '';
  const doc = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench${QUICK ? ' -- --quick' : ''}\` on ${new Date().toISOString()} in ${fmt((Date.now() - started) / 1000)} s.`,
    '',
    '## Machine and versions',
    '',
    `- ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, ${platform()} ${release()}`,
    `- load before: \`${uptimeBefore}\``,
    `- load after: \`${uptimeAfter}\` (the machine is shared with other engineers' test runs: figures are noisy)`,
    ...Object.entries(v).map(([name, version]) => `- ${name}: ${version}`),
    '',
    '## Method',
    '',
    `- Every server runs in its own process; the load generator (${loadTool()}) is another process, on loopback, ${CONNECTIONS} connections, ${DURATION_S} s per run, ${RUNS} run(s), targets alternated A B C D A B C D; figures are medians of the runs, ratios the median of the per-round ratios.`,
    '- cachelog runs from `dist/` with `JOURNAL_SYNC=always` (a 2xx is sent after fsync) and a real JWT; Redis runs with `appendonly yes`, `appendfsync always` behind webdis (2 threads).',
    '- Bare Fastify / bare NestJS: the same routes answering a constant 100-byte value, 201 for POST, and a computed batch answer.',
    '- Restart: time from spawning the process until the data is served (cachelog: listening, which no longer waits for any cache, plus the first GET of the cache, which recovers it; Node and Nest boot included (~0.4 s); Redis: PING answered after loading). The data is written through the entity registry (`JOURNAL_SYNC=none` only to write it faster), stopped cleanly, and the directory opened and closed once untimed so LevelDB has flushed its own log. "journal only": snapshots deleted, the whole journal replayed; Redis loads the same data from its AOF (no RDB preamble) or its RDB.',
    '- Memory: RSS, and V8 heap used + external memory (the value slabs), after a full GC, loaded minus an empty service, per key; Redis: `used_memory` loaded minus empty.',
    '',
    '## Results',
    '',
    tableText,
    '',
    '## Per-layer cost of a durable SET (100 B, 50 connections, 10k keys)',
    '',
    'Each row adds one layer to the one above, each its own process (`bench/servers/layers.ts` builds them from `dist/`); the last row is the service as shipped. Alternated per round; medians.',
    '',
    ...layerRows,
    '',
    '## Start-up by data size',
    '',
    'No cache is loaded at start: the first request (to another cache) is served once the database is open; a cache recovers on its own first request. After `kill -9`, up to 50,000 writes since the last snapshot are replayed too.',
    '',
    ...curveRows,
    '',
    ...respRows,
    ...clusterRows,
    ...(neighbourRows.length ? ['', ...neighbourRows, ''] : []),
    ...(notes.length ? ['Notes from this run:', '', ...notes.map((n) => `- ${n}`), ''] : []),
    extra,
  ].join('\n');
  if (ONLY === undefined) {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(join(ROOT, 'docs', QUICK ? 'benchmarks-quick.md' : 'benchmarks.md'), doc);
    log(`written to docs/${QUICK ? 'benchmarks-quick.md' : 'benchmarks.md'}`);
  }
  for (const n of notes) log(`note: ${n}`);
  log('');
  log(tableText);
  log('');
  log(layerRows.join('\n'));
  log('');
  log(curveRows.join('\n'));
  if (neighbourRows.length) {
    log('');
    log(neighbourRows.join('\n'));
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
