import { ChildProcess, execSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST, freePort, run, sleep, waitForPort } from './procs';

/** Redis as the baseline: `appendfsync always` (a reply after fsync, like JOURNAL_SYNC=always); AOF without an RDB preamble. */
const redisArgs = (dir: string, port: number, aof: boolean) => [
  '--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--protected-mode', 'no', '--daemonize', 'no',
  '--appendonly', aof ? 'yes' : 'no', '--appendfsync', 'always', '--aof-use-rdb-preamble', 'no',
  '--auto-aof-rewrite-percentage', '0', '--logfile', join(dir, 'redis.log'),
];

/** Redis 7 as installed: AOF on with its defaults (RDB preamble in the base file, appendfsync everysec). */
const defaultAofArgs = (dir: string, port: number) => [
  '--port', String(port), '--bind', HOST, '--dir', dir, '--protected-mode', 'no', '--daemonize', 'no', '--appendonly', 'yes', '--logfile', join(dir, 'redis.log'),
];

export const redisCli = (port: number, ...args: string[]) => run('redis-cli', ['-h', HOST, '-p', String(port), ...args]).trim();

export async function startRedis(dir: string, aof: boolean | 'default'): Promise<{ port: number; child: ChildProcess; readyMs: number }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const started = Date.now();
  const child = spawn('redis-server', aof === 'default' ? defaultAofArgs(dir, port) : redisArgs(dir, port, aof), { stdio: 'ignore' });
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (redisCli(port, 'ping') === 'PONG') return { port, child, readyMs: Date.now() - started };
    await sleep(5);
  }
  throw new Error('redis did not start');
}

/** webdis (2 threads) in front of a Redis on `redisPort`: Redis over HTTP, the baseline for an HTTP cache. */
export async function startWebdis(work: string, redisPort: number): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const config = join(work, `webdis-${port}.json`);
  writeFileSync(
    config,
    JSON.stringify({ redis_host: HOST, redis_port: redisPort, http_host: HOST, http_port: port, threads: 2, pool_size: 20, daemonize: false, database: 0, verbosity: 0, logfile: join(work, `webdis-${port}.log`), acl: [{ disabled: ['DEBUG'] }] }),
  );
  const child = spawn('webdis', [config], { stdio: 'ignore' });
  await waitForPort(port);
  return { port, child };
}

export function redisPipe(port: number, file: string): void {
  execSync(`redis-cli -h ${HOST} -p ${port} --pipe < ${file}`, { stdio: 'ignore', timeout: 600_000 });
}

/** A RESP file of `sets` SETs over `keys` keys of `valueBytes` bytes, for `redisPipe`. */
export function respSets(file: string, sets: number, keys: number, valueBytes: number, prefix = 'k'): void {
  const value = 'v'.repeat(valueBytes);
  const parts: string[] = [];
  for (let i = 0; i < sets; i++) {
    const key = `${prefix}${i % keys}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${valueBytes}\r\n${value}\r\n`);
  }
  writeFileSync(file, parts.join(''));
}

/** Waits until Redis has no AOF rewrite running or scheduled. */
export async function aofRewriteDone(port: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const info = redisCli(port, 'info', 'persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await sleep(20);
  }
  throw new Error('the AOF rewrite did not end');
}
