/* eslint-disable @typescript-eslint/no-require-imports */
import { join } from 'node:path';
import { announce } from './common';

/**
 * Runs cachelog from its production build (`dist/`), driven over IPC by the benchmark:
 * `ready` once it listens, `mem` for its memory after a full GC, `fill` to load data
 * through the entity registry (the same path an HTTP write takes, without HTTP).
 * Environment: the service's own (DATA_DIR, JWT_SECRET, JOURNAL_SYNC, ...) and BENCH_PORT.
 */
const dist = join(__dirname, '..', '..', '..', 'dist');
const { createApp } = require(join(dist, 'app.factory'));
const { loadConfig } = require(join(dist, 'config', 'config'));
const { EntityRegistry } = require(join(dist, 'entities', 'entity-registry'));

interface Fill {
  readonly org: string;
  readonly cache: string;
  /** Number of Set commands. */
  readonly sets: number;
  /** Distinct keys: Set i writes key `k${i % keys}`. */
  readonly keys: number;
  readonly valueBytes: number;
}

async function fill(registry: { ask: (ref: unknown, command: unknown) => Promise<{ ok: boolean }> }, f: Fill): Promise<number> {
  const started = Date.now();
  const value = Buffer.alloc(f.valueBytes, 'v');
  const ref = { org: f.org, name: f.cache };
  const WINDOW = 8192;
  for (let i = 0; i < f.sets; i += WINDOW) {
    const replies: Array<Promise<{ ok: boolean }>> = [];
    for (let j = i; j < Math.min(f.sets, i + WINDOW); j++) {
      replies.push(registry.ask(ref, { type: 'SetValue', key: `k${j % f.keys}`, value, ttlSeconds: 0, by: 'bench', device: null }));
    }
    for (const reply of await Promise.all(replies)) if (!reply.ok) throw new Error('a fill write was refused');
  }
  return Date.now() - started;
}

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, PORT: process.env.BENCH_PORT });
  const t0 = Date.now();
  const app = await createApp(config, { logger: ['error', 'warn'] });
  const recoveryMs = Date.now() - t0;
  await app.listen(config.port, '127.0.0.1');
  const registry = app.get(EntityRegistry);
  process.on('message', (message: { id: number; cmd: string } & Partial<Fill>) => {
    void (async () => {
      try {
        if (message.cmd === 'mem') {
          for (let i = 0; i < 3; i++) (global as { gc?: () => void }).gc?.();
          const m = process.memoryUsage();
          process.send?.({ id: message.id, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
        } else if (message.cmd === 'fill') {
          process.send?.({ id: message.id, ms: await fill(registry, message as Fill) });
        }
      } catch (error) {
        process.send?.({ id: message.id, error: (error as Error).message });
      }
    })();
  });
  // Clean shutdown on SIGTERM, as dist/main.js does: drain, snapshot, close, exit 0.
  process.once('SIGTERM', () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  announce(config.port, Math.round(process.uptime() * 1000));
  process.send?.({ type: 'recovered', recoveryMs });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
