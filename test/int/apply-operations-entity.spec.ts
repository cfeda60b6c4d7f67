import { CacheCommand, KeyOperation } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { EntityRef } from '../../src/journal/keys';
import { MemoryBackend } from '../../src/journal/memory/memory-backend';

const T = Date.UTC(2026, 0, 1);
const ref: EntityRef = { org: 'acme', name: 'c' };
const ops = (...list: KeyOperation[]): CacheCommand => ({ type: 'ApplyOperations', ops: list, by: 'tester' });
const put = (key: string, text: string): KeyOperation => ({ op: 'set', key, value: Buffer.from(text), expiry: { kind: 'default' }, when: 'always' });

/** The entity side of ApplyOperations: one journaled append per command, results and aborts in the reply, the shell's limits. */
describe('ApplyOperations through a cache entity', () => {
  let backend: MemoryBackend;
  let registry: EntityRegistry;
  let now: number;
  let due: Array<[EntityRef, string]>;
  let onDue: () => void;
  let scheduler: ExpiryScheduler;

  beforeEach(async () => {
    backend = new MemoryBackend();
    await backend.open();
    now = T;
    due = [];
    onDue = () => undefined;
    scheduler = new ExpiryScheduler(
      () => now,
      (r, key) => {
        due.push([r, key]);
        onDue();
      },
    );
    registry = new EntityRegistry(
      { journal: backend.journal, snapshots: backend.snapshots, scheduler, quota: new OrgQuota(backend.inline), now: () => now, snapshotEvery: 1000, maxEventsPerCommand: 3 },
      { idleMs: 3_600_000 },
    );
  });

  afterEach(async () => {
    registry.halt();
    scheduler.stop();
    await backend.close();
  });

  it('answers one result per op, journals the command as one append, and passes an abort through', async () => {
    const reply = await registry.ask(ref, ops(put('a', '1'), { op: 'incrBy', key: 'a', amount: 2n }, { op: 'read', key: 'a' }));
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(reply.envelopes.map((e) => e.event.type)).toEqual(['Created', 'Set', 'Set']);
    expect(new Set(reply.envelopes.map((e) => e.offset)).size).toBe(3);
    expect(reply.results?.map((r) => r.ok && (typeof r.value === 'object' && r.value !== null && 'version' in r.value ? r.value.version : r.value))).toEqual([
      { applied: true, previous: null },
      3n,
      3,
    ]);
    expect(reply.aborted).toBeUndefined();
    const aborted = await registry.ask(ref, { ...ops(put('b', '1')), watch: [{ key: 'a', version: 2 }] } as CacheCommand);
    expect(aborted).toEqual({ ok: true, envelopes: [], aborted: true });
    expect((await registry.state(ref)).entries.has('b')).toBe(false);
  });

  it("gets the org's quota left like SetValue does, op by op", async () => {
    await registry.ask(ref, ops(put('a', '12345')));
    const reply = await registry.ask(ref, ops(put('b', '123456'), put('c', '12')), { quotaLimit: 10 });
    expect(reply.ok && reply.results?.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['QUOTA_EXCEEDED', 'ok']);
    expect((await registry.state(ref)).bytes).toBe(7);
  });

  it('is refused as a whole beyond MAX_EVENTS_PER_COMMAND', async () => {
    const reply = await registry.ask(ref, ops(put('a', '1'), put('b', '2'), put('c', '3')));
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect('code' in reply.error && reply.error.code).toBe('TOO_MANY_EVENTS');
    expect((await registry.state(ref)).status).toBe('absent');
  });

  it('schedules the expiry an ExpiryChanged sets, and the key expires then', async () => {
    await registry.ask(ref, ops(put('k', 'v')));
    const fired = new Promise<void>((resolve) => (onDue = resolve));
    const before = scheduler.size;
    const reply = await registry.ask(ref, ops({ op: 'expire', key: 'k', at: T + 5 }));
    expect(reply.ok && reply.envelopes.map((e) => e.event)).toEqual([{ at: T, by: 'tester', device: null, type: 'ExpiryChanged', key: 'k', expiresAt: T + 5 }]);
    expect(scheduler.size).toBe(before + 1);
    now = T + 5;
    await fired;
    expect(due).toEqual([[ref, 'k']]);
  });
});
