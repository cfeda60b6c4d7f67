import { readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Forked, HOST, forkServer, freePort, stop } from './lib/procs';

/**
 * The noisy-neighbour phase: one cachelog (from dist/, JOURNAL_SYNC=always, byte quota on),
 * a canary org doing durable writes and reads of its own cache, and an attacker org running
 * each class of the "no noisy neighbour" findings in turn, within its limits: reads of
 * missing caches, big capacity cuts, point-in-time reads, rebuild tasks, overwrites of a big
 * key, answers never read, half-open connections. The table gives the canary's p99 and the process's peak RSS
 * per attack beside the quiet baseline. Returns the markdown of its section.
 */
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Options {
  readonly quick: boolean;
  readonly serverScript: string;
  readonly env: Record<string, string>;
  readonly token: (claims: Record<string, unknown>) => string;
}

interface Figures {
  readonly p99: number;
  readonly p50: number;
  readonly requests: number;
  readonly errors: number;
  readonly rssMb: number;
  /** The server's longest event-loop delay during the attack (bench/lib/event-loop-probe.ts). */
  readonly loopMaxMs: number;
  readonly attacker: { ok: number; refused: number; failed: number };
}

const MiB = 1024 * 1024;

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function neighbourFigures(options: Options): Promise<string[]> {
  const durationMs = options.quick ? 3000 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'cachelog-neighbour-'));
  const port = await freePort();
  // For profiling by hand: NEIGHBOUR_CPU_PROF=<dir> writes the server's CPU profile there;
  // NEIGHBOUR_ONLY=<words> runs the quiet row and the attacks whose title contains one of them.
  const profDir = process.env.NEIGHBOUR_CPU_PROF;
  const only = process.env.NEIGHBOUR_ONLY?.split(',').filter(Boolean);
  const forked: Forked = forkServer(
    options.serverScript,
    [],
    {
      ...options.env,
      DATA_DIR: dir,
      BENCH_PORT: String(port),
      ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true',
      FREE_SERVICE_LEVEL_MAX_BYTES: String(64 * MiB),
    },
    ['--require', join(__dirname, 'lib', 'event-loop-probe.js'), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])],
  );
  const eventLoop = () => forked.request<{ maxMs: number; p99Ms: number }>({ cmd: 'eventLoop' }, 30_000);
  const base = `http://${HOST}:${port}`;
  const canaryAuth = { authorization: `Bearer ${options.token({ org: 'canary', name: 'canary', serviceLevel: 'free' })}` };
  const attackerAuth = { authorization: `Bearer ${options.token({ org: 'attacker', name: 'attacker', serviceLevel: 'free' })}` };
  const request = async (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<number> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (Buffer.isBuffer(body)) {
      (init.headers as Record<string, string>)['content-type'] = 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${base}${path}`, init);
    await response.arrayBuffer();
    return response.status;
  };
  const rows: string[] = [];
  try {
    await forked.ready;
    const small = Buffer.alloc(100, 'c');
    await request('POST', '/canary/k0', canaryAuth, small);

    /** Runs the canary (and `attack`, if any) for the phase's duration. */
    const measure = async (attack?: (stopAt: () => boolean, count: (status: number) => void) => Promise<void>): Promise<Figures> => {
      const latencies: number[] = [];
      let errors = 0;
      const attacker = { ok: 0, refused: 0, failed: 0 };
      const count = (status: number) => {
        if (status < 300) attacker.ok++;
        else if (status < 500) attacker.refused++;
        else attacker.failed++;
      };
      let peak = rssMb(forked.child.pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(forked.child.pid))), 100);
      await eventLoop();
      const end = Date.now() + durationMs;
      const done = () => Date.now() >= end;
      const canary = async (lane: number) => {
        for (let i = 0; !done(); i++) {
          const key = `k${(lane * 1000 + i) % 100}`;
          for (const [method, body] of [['POST', small], ['GET', undefined]] as const) {
            const started = performance.now();
            try {
              const status = await request(method, `/canary/${key}`, canaryAuth, body);
              if (status >= 300 && !(method === 'GET' && status === 404)) errors++;
            } catch {
              errors++;
            }
            latencies.push(performance.now() - started);
          }
        }
      };
      await Promise.all([...Array.from({ length: 4 }, (_, lane) => canary(lane)), attack?.(done, count)]);
      clearInterval(sampler);
      const loop = await eventLoop();
      const sorted = latencies.sort((a, b) => a - b);
      return { p99: percentile(sorted, 99), p50: percentile(sorted, 50), requests: sorted.length, errors, rssMb: peak, loopMaxMs: loop.maxMs, attacker };
    };

    /** `lanes` attacker loops of `step` until the phase ends (an error counts as failed). */
    const loops = (lanes: number, step: (lane: number, i: number) => Promise<number>) => async (done: () => boolean, count: (status: number) => void) => {
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = 0; !done(); i++) {
            try {
              count(await step(lane, i));
            } catch {
              count(599);
            }
          }
        }),
      );
    };

    // Set-up the attacker's caches (untimed): one to cut, one big cache for point-in-time reads and rebuilds.
    const batch = (cacheName: string, n: number, from = 0) => ({ cacheRequests: Array.from({ length: n }, (_, i) => ({ cacheName, key: `k${from + i}`, value: 'dmFsdWU=' })) });
    const cutKeys = options.quick ? 10_000 : 40_000;
    for (let i = 0; i < cutKeys; i += 10_000) await request('POST', '/batch', attackerAuth, batch('history', 10_000, i));
    const big = Buffer.alloc(MiB, 'b');
    for (let i = 0; i < 8; i++) await request('POST', `/pit/k${i}`, attackerAuth, big);
    await request('POST', '/api/v1/cache/refresh/', attackerAuth, { resource_title: 'pit', action: 'snapshot' });

    const classes: Array<{ title: string; attack?: Parameters<typeof measure>[0] }> = [
      { title: 'quiet (no attack)' },
      {
        title: 'reads of missing caches (POST /batch/get, 10,000 names)',
        attack: loops(2, async () => request('POST', '/batch/get', attackerAuth, { getCachedBatch: Array.from({ length: 10_000 }, (_, i) => ({ cacheName: `missing${i}`, key: 'k' })) })),
      },
      {
        title: `capacity cuts (${options.quick ? '10,000' : '40,000'} keys written, then capacity 1)`,
        attack: loops(1, async (_lane, i) => {
          if (i % 2 === 0) {
            await request('PUT', '/cacheName/cut/settings', attackerAuth, { capacity: 0 });
            for (let k = 0; k < cutKeys; k += 10_000) await request('POST', '/batch', attackerAuth, batch('cut', 10_000, k));
            return 200;
          }
          return request('PUT', '/cacheName/cut/settings', attackerAuth, { capacity: 1 });
        }),
      },
      { title: 'point-in-time reads of an 8 MiB cache', attack: loops(6, async () => request('GET', '/pit/k0?at=9', attackerAuth)) },
      {
        title: `rebuild tasks of a ${options.quick ? '10,000' : '40,000'}-key cache`,
        attack: loops(2, async () => request('POST', '/api/v1/cache/refresh/', attackerAuth, { resource_title: 'history', action: 'rebuild' })),
      },
      { title: 'overwrites of a 1 MiB key', attack: loops(2, async () => request('POST', '/bigkey/k', attackerAuth, big)) },
      {
        title: 'answers never read (20 sockets, POST /batch/get of ~27 MiB, pipelined)',
        attack: async (done) => {
          const body = JSON.stringify({ getCachedBatch: Array.from({ length: 20 }, (_, i) => ({ cacheName: 'pit', key: `k${i % 8}` })) });
          const ask = `POST /batch/get HTTP/1.1\r\nHost: x\r\nauthorization: ${attackerAuth.authorization}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
          const sockets = new Set<Socket>();
          while (!done()) {
            while (sockets.size < 20 && !done()) {
              // Never read: the answers stay wherever the service keeps them until it closes the socket.
              const socket = connect(port, HOST);
              socket.pause();
              socket.on('error', () => undefined);
              // (a paused socket does not see the service close it: the 20 stay for the phase)
              socket.on('close', () => sockets.delete(socket));
              socket.write(ask.repeat(2));
              sockets.add(socket);
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          for (const socket of sockets) socket.destroy();
        },
      },
      {
        title: 'half-open connections (headers never finished)',
        attack: async (done, count) => {
          const sockets = new Set<Socket>();
          while (!done()) {
            while (sockets.size < 300 && !done()) {
              const socket = connect(port, HOST);
              socket.on('error', () => undefined);
              socket.on('close', () => {
                sockets.delete(socket);
                count(408);
              });
              socket.write('GET /canary/k0 HTTP/1.1\r\nHost: x\r\n');
              sockets.add(socket);
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          for (const socket of sockets) socket.destroy();
        },
      },
    ];
    const results: Array<{ title: string; figures: Figures }> = [];
    for (const { title, attack } of classes) {
      if (attack && only && !only.some((word) => title.includes(word))) continue;
      const figures = await measure(attack);
      results.push({ title, figures });
      log(
        `neighbour ${title.padEnd(58)} canary p99 ${figures.p99.toFixed(1).padStart(7)} ms  p50 ${figures.p50.toFixed(1).padStart(6)} ms  ${String(figures.requests).padStart(6)} req  errors ${figures.errors}  peak RSS ${figures.rssMb.toFixed(0)} MB  longest loop delay ${figures.loopMaxMs.toFixed(0)} ms  attacker ok/4xx/5xx ${figures.attacker.ok}/${figures.attacker.refused}/${figures.attacker.failed}`,
      );
    }
    const quiet = results[0].figures.p99;
    rows.push(
      '## Noisy neighbour',
      '',
      `A canary org writes (durably, \`JOURNAL_SYNC=always\`) and reads 100-byte values on 4 connections while an attacker org runs one class at a time for ${durationMs / 1000} s, within its limits (byte quota 64 MiB, default budgets). Peak RSS of the whole process, sampled every 100 ms; the server's longest event-loop delay (\`monitorEventLoopDelay\`) during the attack.`,
      '',
      '| attack | canary p99 ms | × quiet p99 | canary p50 ms | canary errors | peak RSS MB | longest event-loop delay ms | attacker 2xx / 4xx / 5xx |',
      '|---|---|---|---|---|---|---|---|',
      ...results.map(
        ({ title, figures: f }) =>
          `| ${title} | ${f.p99.toFixed(1)} | ${(f.p99 / quiet).toFixed(2)} | ${f.p50.toFixed(1)} | ${f.errors} | ${f.rssMb.toFixed(0)} | ${f.loopMaxMs.toFixed(0)} | ${f.attacker.ok} / ${f.attacker.refused} / ${f.attacker.failed} |`,
      ),
    );
  } finally {
    await stop(forked.child);
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
