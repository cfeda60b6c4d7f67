import { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, forkServer, freePort, run, stop, which } from './lib/procs';
import { redisCli, startRedis } from './lib/redis';

/**
 * The Redis-protocol phase: `redis-benchmark -t set,get,incr,mset` at -P 1 and -P 16, 50
 * clients, 100-byte values, against cachelog's RESP listener (JOURNAL_SYNC=always, a reply
 * after fsync) and against Redis 7 with `appendfsync always` and `everysec`, targets
 * alternated in each round; medians of the rounds. Returns the markdown of its section.
 */
const log = (line: string) => process.stdout.write(`${line}\n`);
const TESTS = ['SET', 'GET', 'INCR', 'MSET (10 keys)'] as const;
type Test = (typeof TESTS)[number];
type TargetId = 'cachelog' | 'always' | 'everysec';
const TARGET_TITLES: Record<TargetId, string> = { cachelog: 'cachelog (RESP, JOURNAL_SYNC=always)', always: 'Redis appendfsync always', everysec: 'Redis appendfsync everysec' };

interface Figure {
  readonly rps: number;
  readonly p99: number;
}

/** One redis-benchmark run: its CSV rows by test name. */
function redisBenchmark(port: number, pipeline: number, requests: number, password?: string): Map<string, Figure> {
  const args = ['-h', HOST, '-p', String(port), '-c', '50', '-n', String(requests), '-d', '100', '-r', '10000', '-P', String(pipeline), '-t', 'set,get,incr,mset', '--csv'];
  if (password !== undefined) args.push('-a', password);
  const out = run('redis-benchmark', args, { timeoutMs: 600_000 });
  const figures = new Map<string, Figure>();
  for (const line of out.split('\n')) {
    const cells = line.split('","').map((cell) => cell.replace(/^"|"$/g, ''));
    if (cells.length >= 7 && cells[0] !== 'test') figures.set(cells[0], { rps: Number(cells[1]), p99: Number(cells[6]) });
  }
  return figures;
}

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

export async function respFigures(options: { quick: boolean; serverScript: string; env: Record<string, string>; token: string }): Promise<string[]> {
  for (const tool of ['redis-server', 'redis-benchmark', 'redis-cli']) {
    if (!which(tool)) {
      log(`${tool} is not installed (apt-get install -y redis-server redis-tools): the Redis-protocol figures are left out`);
      return [];
    }
  }
  const rounds = options.quick ? 1 : 3;
  const requests = options.quick ? 20_000 : 100_000;
  const work = mkdtempSync(join(tmpdir(), 'cachelog-bench-resp-'));
  const httpPort = await freePort();
  const respPort = await freePort();
  const cachelog = forkServer(options.serverScript, [], { ...options.env, DATA_DIR: join(work, 'cachelog'), BENCH_PORT: String(httpPort), RESP_PORT: String(respPort) });
  const started: ChildProcess[] = [cachelog.child];
  try {
    await cachelog.ready;
    const always = await startRedis(join(work, 'always'), true);
    started.push(always.child);
    const everysec = await startRedis(join(work, 'everysec'), true);
    started.push(everysec.child);
    redisCli(everysec.port, 'config', 'set', 'appendfsync', 'everysec');
    const ports: Record<TargetId, number> = { cachelog: respPort, always: always.port, everysec: everysec.port };
    const results = new Map<string, Figure[]>(); // `${pipeline} ${target} ${test}`
    for (let round = 0; round < rounds; round++) {
      for (const pipeline of [1, 16]) {
        for (const target of ['cachelog', 'always', 'everysec'] as const) {
          const figures = redisBenchmark(ports[target], pipeline, requests, target === 'cachelog' ? options.token : undefined);
          for (const test of TESTS) {
            const figure = figures.get(test) ?? { rps: NaN, p99: NaN };
            const id = `${pipeline} ${target} ${test}`;
            results.set(id, [...(results.get(id) ?? []), figure]);
          }
          log(`  resp round ${round + 1} -P ${pipeline} ${target}: ${TESTS.map((t) => `${t} ${fmt(figures.get(t)?.rps ?? NaN)}`).join(', ')}`);
        }
      }
    }
    const rows = [
      `| command | pipeline | ${(['cachelog', 'always', 'everysec'] as const).map((t) => `${TARGET_TITLES[t]} req/s (p99 ms)`).join(' | ')} | cachelog × Redis always | cachelog × Redis everysec |`,
      '|---|---|---|---|---|---|---|',
    ];
    for (const pipeline of [1, 16]) {
      for (const test of TESTS) {
        const med = (target: TargetId, field: keyof Figure) => median((results.get(`${pipeline} ${target} ${test}`) ?? []).map((f) => f[field]));
        const cells = (['cachelog', 'always', 'everysec'] as const).map((t) => `${fmt(med(t, 'rps'))} (${fmt(med(t, 'p99'), 2)})`);
        rows.push(`| ${test} | -P ${pipeline} | ${cells.join(' | ')} | ${fmt(med('cachelog', 'rps') / med('always', 'rps'), 2)}× | ${fmt(med('cachelog', 'rps') / med('everysec', 'rps'), 2)}× |`);
      }
    }
    return [
      '## The Redis protocol: redis-benchmark against cachelog and Redis 7',
      '',
      `\`redis-benchmark -c 50 -n ${fmt(requests)} -d 100 -r 10000 -P <1|16> -t set,get,incr,mset\`, ${rounds} round(s), targets alternated in each round, medians. cachelog authenticates with \`-a <JWT>\`; both Redis servers run AOF (\`appendfsync always\`: a reply after fsync, like cachelog; \`everysec\` for reference).`,
      '',
      ...rows,
      '',
    ];
  } finally {
    for (const child of started.reverse()) await stop(child);
  }
}
