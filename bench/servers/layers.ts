/* eslint-disable @typescript-eslint/no-require-imports */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { BODY_LIMIT, announce } from './common';

/**
 * One layer of a durable SET at a time, for the per-layer table: the bare Fastify POST
 * route, then each piece cachelog adds, taken from its production build (`dist/`):
 *   LAYER=token           + the token check (AuthService: verified once, then a map lookup)
 *   LAYER=decide          + decide and evolve on one cache's state in memory
 *   LAYER=journal-none    + the entity (mailbox, decide, evolve) and the LevelDB journal with
 *                           its inline read models, JOURNAL_SYNC=none
 *   LAYER=journal-always  the same with sync: what cachelog does under its HTTP layer
 * Environment: BENCH_PORT, LAYER, DATA_DIR, JWT_SECRET.
 */
const dist = join(__dirname, '..', '..', '..', 'dist');
const { AuthService } = require(join(dist, 'auth', 'auth.service'));
const { resolveJwtKeys } = require(join(dist, 'auth', 'jwt-keys'));
const { loadConfig } = require(join(dist, 'config', 'config'));
const { JwtService } = require('@nestjs/jwt');
const { decide, evolve, initialState } = require(join(dist, 'domain'));
const { CompactEntryMap } = require(join(dist, 'domain', 'compact-entry-map'));
const { LevelDbBackend } = require(join(dist, 'journal', 'leveldb', 'leveldb-backend'));
const { EntityRegistry } = require(join(dist, 'entities', 'entity-registry'));
const { ExpiryScheduler } = require(join(dist, 'entities', 'expiry-scheduler'));
const { OrgQuota } = require(join(dist, 'entities', 'org-quota'));

type Layer = 'token' | 'decide' | 'journal-none' | 'journal-always';
const ORDER: Layer[] = ['token', 'decide', 'journal-none', 'journal-always'];

async function main(): Promise<void> {
  const started = Date.now();
  const layer = process.env.LAYER as Layer;
  const depth = ORDER.indexOf(layer);
  if (depth < 0) throw new Error(`LAYER must be one of ${ORDER.join(', ')}`);
  const config = loadConfig({ ...process.env, PORT: process.env.BENCH_PORT });
  const now = () => Date.now();
  const auth = new AuthService(new JwtService({}), resolveJwtKeys(config), config, { now });
  const state = { ...initialState(), entries: new CompactEntryMap() };
  let registry: { ask: (ref: unknown, command: unknown) => Promise<{ ok: boolean }> } | undefined;
  if (depth >= 2) {
    mkdirSync(config.dataDir, { recursive: true });
    const backend = new LevelDbBackend(config.dataDir, { sync: layer === 'journal-always' ? 'always' : 'none' });
    await backend.open();
    const quota = new OrgQuota(backend.inline);
    registry = new EntityRegistry(
      { journal: backend.journal, snapshots: backend.snapshots, scheduler: new ExpiryScheduler(now, () => undefined), quota, now, snapshotEvery: config.snapshotEvery, snapshotBytes: config.snapshotBytes },
      { idleMs: 600_000 },
    );
  }

  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
  app.post<{ Params: { cacheName: string; key: string } }>('/:cacheName/:key', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const principal = auth.verify(header.startsWith('Bearer ') ? header.slice(7) : undefined);
    const command = { type: 'SetValue', key: request.params.key, value: request.body as Buffer, ttlSeconds: 0, by: principal.name, device: null };
    if (registry !== undefined) {
      const answer = await registry.ask({ org: principal.org, name: request.params.cacheName }, command);
      if (!answer.ok) return reply.code(400).send();
    } else if (depth >= 1) {
      const decision = decide(state, command, now());
      if (decision.ok) for (const event of decision.events) evolve(state, event);
    }
    return reply.code(201).send();
  });
  await app.listen({ port: Number(process.env.BENCH_PORT), host: '127.0.0.1' });
  announce(Number(process.env.BENCH_PORT), Date.now() - started);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
