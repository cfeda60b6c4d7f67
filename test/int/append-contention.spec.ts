import { CacheCommand, CacheEvent } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { Journal, JournalSequenceConflictError } from '../../src/journal/journal';
import { EntityRef } from '../../src/journal/keys';
import { MemoryBackend } from '../../src/journal/memory/memory-backend';

const ref: EntityRef = { org: 'acme', name: 'counter' };
const incr: CacheCommand = { type: 'Increment', key: 'n', amount: 1n, by: 'tester' };

/**
 * Several "nodes" (entity registries) on one shared journal: the memory journal checks each
 * append's expected seq as NATS's expected-last-subject-sequence does, and every registry
 * follows it. A write that another node beat to the cache is decided again on the caught-up
 * state, bounded by time, not answered 503.
 */
describe('appends that lose the race on a shared journal', () => {
  let backend: MemoryBackend;
  let journal: Journal;
  const registries: EntityRegistry[] = [];
  const schedulers: ExpiryScheduler[] = [];

  const node = (contentionMs: number): EntityRegistry => {
    const scheduler = new ExpiryScheduler(() => 0, () => undefined);
    const registry = new EntityRegistry(
      { journal, snapshots: backend.snapshots, scheduler, quota: new OrgQuota(backend.inline), now: () => 1, snapshotEvery: 100_000, contentionMs },
      { idleMs: 3_600_000, readWaitMs: 1000 },
    );
    registry.followShared();
    schedulers.push(scheduler);
    registries.push(registry);
    return registry;
  };

  const value = async (registry: EntityRegistry): Promise<string | undefined> => {
    const entry = (await registry.state(ref)).entries.get('n');
    return entry === undefined ? undefined : Buffer.from(entry.value).toString();
  };

  beforeEach(async () => {
    backend = new MemoryBackend();
    await backend.open();
    journal = backend.journal;
    Object.defineProperty(journal, 'shared', { get: () => true });
  });

  afterEach(async () => {
    for (const registry of registries.splice(0)) registry.halt();
    for (const scheduler of schedulers.splice(0)) scheduler.stop();
    await backend.close();
  });

  it('concurrent increments through 3 nodes: every one acknowledged, none lost or applied twice, the log gapless', async () => {
    const nodes = [node(5000), node(5000), node(5000)];
    let conflicts = 0;
    const append = journal.append.bind(journal);
    journal.append = (r, seq, events) =>
      append(r, seq, events).catch((error) => {
        if (error instanceof JournalSequenceConflictError) conflicts++;
        throw error;
      });
    // Every node holds the cache before the race, so each decides on its own copy.
    for (const registry of nodes) await registry.state(ref);
    const replies = [];
    for (let round = 0; round < 10; round++) replies.push(...(await Promise.all(Array.from({ length: 30 }, (_, i) => nodes[i % 3].ask(ref, incr)))));
    expect(replies.filter((reply) => !reply.ok)).toStrictEqual([]);
    expect(conflicts).toBeGreaterThan(0); // the race was real
    // Each increment answered a distinct value: none was decided on a stale state.
    const answered = replies.map((reply) => (reply.ok ? Buffer.from((reply.envelopes.find((e) => e.event.type === 'Set')!.event as Extract<CacheEvent, { type: 'Set' }>).value).toString() : ''));
    expect(new Set(answered).size).toBe(300);
    const seqs: number[] = [];
    await journal.forEachEvent(ref, 1, (seq) => void seqs.push(seq));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const registry of [...nodes, node(5000)]) {
      await registry.reach(ref, seqs.length);
      expect(await value(registry)).toBe('300');
    }
  });

  it('a cache whose appends keep conflicting without anyone moving it answers 503 JOURNAL_CONTENDED after the window, nothing written', async () => {
    const registry = node(300);
    expect((await registry.ask(ref, incr)).ok).toBe(true);
    let tries = 0;
    journal.append = (r, seq) => {
      tries++;
      return Promise.reject(new JournalSequenceConflictError(r, seq, seq));
    };
    const started = performance.now();
    const reply = await registry.ask(ref, incr);
    expect(reply).toEqual({ ok: false, error: expect.objectContaining({ code: 'JOURNAL_CONTENDED' }) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(tries).toBeGreaterThan(1); // decided again, paced rather than a hot loop
    expect(await value(registry)).toBe('1');
  });

  it('a conflict past the first message of a group (part of it may be written) is not decided again', async () => {
    const registry = node(5000);
    expect((await registry.ask(ref, incr)).ok).toBe(true);
    let tries = 0;
    journal.append = (r, seq, events) => {
      tries++;
      return Promise.reject(new JournalSequenceConflictError(r, seq + Math.max(1, events.length - 1), seq + 1));
    };
    const reply = await registry.ask(ref, incr);
    expect(reply.ok).toBe(false);
    expect(tries).toBe(1);
  });
});
