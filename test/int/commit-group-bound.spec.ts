import { CacheCommand, KeyOperation } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { EntityRef } from '../../src/journal/keys';
import { MemoryBackend } from '../../src/journal/memory/memory-backend';

const ref: EntityRef = { org: 'acme', name: 'c' };
const put = (key: string): KeyOperation => ({ op: 'set', key, value: Buffer.from('v'), expiry: { kind: 'default' }, when: 'always' });
const sets = (prefix: string, n: number): CacheCommand => ({ type: 'ApplyOperations', ops: Array.from({ length: n }, (_, i) => put(`${prefix}${i}`)), by: 'tester' });

/**
 * A commit group is one synchronous decide, encode and apply: MAX_EVENTS_PER_COMMAND bounds
 * the group, not only each command in it, however many commands arrive together.
 */
describe('the events of one commit group', () => {
  let backend: MemoryBackend;
  let registry: EntityRegistry;
  let scheduler: ExpiryScheduler;
  let appends: number[];

  beforeEach(async () => {
    backend = new MemoryBackend();
    await backend.open();
    appends = [];
    // The real memory journal, observed: each append's size is recorded before it is done.
    const journal = backend.journal;
    const append = journal.append.bind(journal);
    journal.append = (r, seq, events) => {
      appends.push(events.length);
      return append(r, seq, events);
    };
    scheduler = new ExpiryScheduler(() => 0, () => undefined);
    registry = new EntityRegistry(
      { journal, snapshots: backend.snapshots, scheduler, quota: new OrgQuota(backend.inline), now: () => 1, snapshotEvery: 1000, maxEventsPerCommand: 10 },
      { idleMs: 3_600_000 },
    );
    expect((await registry.ask(ref, sets('seed', 1))).ok).toBe(true);
    appends = [];
  });

  afterEach(async () => {
    registry.halt();
    scheduler.stop();
    await backend.close();
  });

  it('never journals more than MAX_EVENTS_PER_COMMAND events in one append, and keeps the commands in order', async () => {
    const replies = await Promise.all([sets('a', 6), sets('b', 6), sets('c', 6), sets('d', 3), sets('e', 1)].map((command) => registry.ask(ref, command)));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(appends.every((n) => n <= 10)).toBe(true);
    expect(appends.reduce((a, b) => a + b, 0)).toBe(22);
    // The first command starts a group alone (nothing else waits yet); the others queue behind it:
    // a (6) | b (6) | c, d and e (10): c does not fit beside b, so it opens the next group.
    expect(appends).toEqual([6, 6, 10]);
    const seqs = replies.map((reply) => (reply.ok ? reply.envelopes.map((e) => e.seq) : []));
    const flat = seqs.flat();
    expect(flat).toEqual([...flat].sort((x, y) => x - y));
    const state = await registry.state(ref);
    expect(state.entries.size).toBe(23);
  });

  it('still refuses one command over the limit on its own, and lets the others of its group through', async () => {
    const replies = await Promise.all([sets('a', 4), sets('big', 11), sets('b', 4)].map((command) => registry.ask(ref, command)));
    expect(replies[1]).toEqual({ ok: false, error: expect.objectContaining({ code: 'TOO_MANY_EVENTS' }) });
    expect(replies[0].ok && replies[2].ok).toBe(true);
    // a alone, then big (refused, nothing journaled) and b in the next group.
    expect(appends).toEqual([4, 4]);
  });
});
