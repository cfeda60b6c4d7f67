import { CacheCommand } from '../../src/domain';
import { EntityRegistry, SeqNotReachedError } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { JournalUnavailableError } from '../../src/journal/journal';
import { EntityRef } from '../../src/journal/keys';
import { NatsBackend } from '../../src/journal/nats/nats-backend';
import { freePort } from '../support/free-port';
import { NatsServer, NatsServerSpec, startNatsServer } from '../support/nats-server';
import { tempDir } from '../support/temp-dir';

/**
 * Read-your-writes on a node whose copy of a cache is behind, while the journal cannot be read:
 * the seq was acknowledged (the journal reached it), so the answer is "unavailable, try again"
 * (JournalUnavailableError: 503 JOURNAL_UNAVAILABLE), never "not reached" (400
 * MIN_SEQ_NOT_REACHED, which says the journal has no such seq). Two nodes in this process on
 * one real nats-server; node B's registry does not follow the stream, so its copy stays behind
 * as behind a stalled follower.
 */
const ref: EntityRef = { org: 'acme', name: 'ryw' };
const incr: CacheCommand = { type: 'Increment', key: 'n', amount: 1n, by: 'tester' };

let spec: NatsServerSpec;
let server: NatsServer;
const dirs = [tempDir(), tempDir()];
const store = tempDir('cachelog-nats-');
const backends: NatsBackend[] = [];
const registries: EntityRegistry[] = [];
const schedulers: ExpiryScheduler[] = [];

beforeAll(async () => {
  spec = { name: 'ryw', port: await freePort(), storeDir: store.path };
  server = await startNatsServer(spec);
});

afterAll(async () => {
  for (const registry of registries) registry.halt();
  for (const scheduler of schedulers) scheduler.stop();
  for (const backend of backends) await backend.close();
  await server.stop();
  for (const dir of [...dirs, store]) dir.cleanup();
});

async function node(dir: ReturnType<typeof tempDir>, follow: boolean): Promise<EntityRegistry> {
  const backend = new NatsBackend({ servers: [server.url], replicas: 1, stream: 'ryw', timeoutMs: 1000, dataDir: dir.path });
  await backend.open();
  backends.push(backend);
  const scheduler = new ExpiryScheduler(() => 0, () => undefined);
  schedulers.push(scheduler);
  const registry = new EntityRegistry(
    { journal: backend.journal, snapshots: backend.snapshots, scheduler, quota: new OrgQuota(backend.inline), now: () => Date.now(), snapshotEvery: 100_000 },
    { idleMs: 3_600_000, readWaitMs: 200 },
  );
  if (follow) registry.followShared();
  registries.push(registry);
  return registry;
}

it('a minSeq wait for an acknowledged seq that the journal cannot be read for now fails as unavailable, not as not reached', async () => {
  const a = await node(dirs[0], true);
  const b = await node(dirs[1], false);
  const lastSeq = (reply: Awaited<ReturnType<EntityRegistry['ask']>>): number => (reply.ok ? reply.envelopes[reply.envelopes.length - 1].seq : 0);
  const first = lastSeq(await a.ask(ref, incr));
  expect(first).toBeGreaterThan(0);
  await b.reach(ref, first); // B holds the cache at that seq
  const acked = lastSeq(await a.ask(ref, incr));
  expect(acked).toBe(first + 1); // acknowledged: the journal holds it

  await server.kill();
  const outcome = await b.reach(ref, acked).then(
    () => 'reached',
    (error: unknown) => error,
  );
  expect(outcome).not.toBeInstanceOf(SeqNotReachedError);
  expect(outcome).toBeInstanceOf(JournalUnavailableError);

  // Once the journal is back, the same wait is answered.
  server = await startNatsServer(spec);
  const until = Date.now() + 20_000;
  for (;;) {
    const again = await b.reach(ref, acked).then(
      () => 'reached',
      (error: unknown) => error,
    );
    if (again === 'reached' || Date.now() > until) {
      expect(again).toBe('reached');
      break;
    }
    expect(again).toBeInstanceOf(JournalUnavailableError);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 60_000);
