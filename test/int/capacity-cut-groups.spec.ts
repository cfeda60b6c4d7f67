import { CacheCommand, CacheEvent } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { MAX_BYTES_PER_GROUP, MAX_EVENTS_PER_GROUP } from '../../src/entities/group-ledger';
import { OrgQuota } from '../../src/entities/org-quota';
import { EntityRef } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

const ref: EntityRef = { org: 'acme', name: 'c' };
const meta = { at: 1, by: 'tester', device: null };
const KEYS = 3000;
const cut = (capacity: number): CacheCommand => ({ type: 'ChangeSettings', settings: { capacity }, maxEvents: 50_000, by: 'tester' });
const write = (key: string): CacheCommand => ({ type: 'SetValue', key, value: Buffer.from('w'), by: 'tester' });

/**
 * A capacity cut of many keys was one commit group (10,000 evictions held the event loop ~1.4 s
 * in the noisy-neighbour benchmark). It is now journaled in groups of at most
 * MAX_EVENTS_PER_GROUP events; the cache's other clients are answered between them, and the
 * cut's asker when its last eviction is journaled.
 */
describe('a capacity cut over many keys', () => {
  let dir: ReturnType<typeof tempDir>;
  let backend: LevelDbBackend;
  let scheduler: ExpiryScheduler;
  let registry: EntityRegistry;
  let appends: CacheEvent[][];

  /** A cache of KEYS keys, journaled (plus `extra` events) before the registry opens it. */
  async function seed(extra: CacheEvent[] = []) {
    dir = tempDir();
    backend = new LevelDbBackend(dir.path, { sync: 'none' });
    await backend.open();
    const events: CacheEvent[] = [{ ...meta, type: 'Created', description: '' }];
    for (let i = 0; i < KEYS; i++) events.push({ ...meta, type: 'Set', key: `k${i}`, value: Buffer.from('v'), expiresAt: 0 });
    events.push(...extra);
    for (let from = 0; from < events.length; from += 1000) await backend.journal.append(ref, from, events.slice(from, from + 1000));
    // The real journal, observed: each append's events are recorded before it is done.
    const journal = backend.journal;
    const append = journal.append.bind(journal);
    appends = [];
    journal.append = (r, seq, list) => {
      appends.push([...list]);
      return append(r, seq, list);
    };
    scheduler = new ExpiryScheduler(() => 0, () => undefined);
    registry = new EntityRegistry(
      { journal, snapshots: backend.snapshots, scheduler, quota: new OrgQuota(backend.inline), now: () => 1, snapshotEvery: 1_000_000, maxEventsPerCommand: 50_000 },
      { idleMs: 3_600_000 },
    );
  }

  afterEach(async () => {
    registry.halt();
    scheduler.stop();
    await backend.close();
    dir.cleanup();
  });

  it('is committed in groups of at most MAX_EVENTS_PER_GROUP events, and the cache’s other clients are answered between them', async () => {
    await seed();
    const answered: string[] = [];
    const cutting = registry.ask(ref, cut(1)).then((reply) => (answered.push('cut'), reply));
    // Asked while the cut's first group is being written: decided before the cut's next step.
    const writing = registry.ask(ref, write('other')).then((reply) => (answered.push('write'), reply));
    const [cutReply, writeReply] = await Promise.all([cutting, writing]);
    expect(cutReply.ok && writeReply.ok).toBe(true);
    expect(answered).toEqual(['write', 'cut']);

    expect(appends.length).toBeGreaterThanOrEqual(3);
    expect(appends.every((events) => events.length <= MAX_EVENTS_PER_GROUP)).toBe(true);
    // First the settings and the first evictions; the write (one eviction and its Set) in its own group; then the rest.
    expect(appends[0][0]).toMatchObject({ type: 'SettingsChanged', capacity: 1 });
    expect(appends[0].slice(1).every((event) => event.type === 'Evicted')).toBe(true);
    expect(appends[1].map((event) => event.type)).toEqual(['Evicted', 'Set']);
    expect(appends.slice(2).every((events) => events.every((event) => event.type === 'Evicted'))).toBe(true);
    // Every key but the last one used is evicted once, least recently used first.
    const evicted = appends.flat().filter((event) => event.type === 'Evicted').map((event) => (event as { key: string }).key);
    expect(new Set(evicted).size).toBe(evicted.length);
    expect(evicted.length).toBe(KEYS);
    expect(evicted.slice(0, 3)).toEqual(['k0', 'k1', 'k2']);
    const state = await registry.state(ref);
    expect([...state.entries.keys()]).toEqual(['other']);
    expect(state.settings.capacity).toBe(1);
    // The cut's reply carries the envelopes of its last step.
    expect(cutReply.ok && cutReply.envelopes.at(-1)?.seq).toBe(KEYS + 1 + KEYS + 2);
  });

  it('a cut a crash left part-way is finished, in bounded groups, on the heels of the cache’s next write', async () => {
    await seed([{ ...meta, type: 'SettingsChanged', capacity: 10, ttlSeconds: 0, maxValueBytes: 0, cacheNullValue: true }]);
    expect((await registry.ask(ref, write('after'))).ok).toBe(true);
    await registry.entity(ref).whenDrained();
    const state = await registry.state(ref);
    expect(state.entries.size).toBe(10);
    expect(state.entries.has('after')).toBe(true);
    expect(appends.length).toBeGreaterThanOrEqual(3);
    expect(appends.every((events) => events.length <= MAX_EVENTS_PER_GROUP)).toBe(true);
  });

  it('many commands asked at once are journaled in groups of at most MAX_EVENTS_PER_GROUP events, in order', async () => {
    await seed();
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => registry.ask(ref, write(`n${i}`))));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(appends.length).toBeGreaterThanOrEqual(Math.ceil(1000 / MAX_EVENTS_PER_GROUP));
    expect(appends.every((events) => events.length <= MAX_EVENTS_PER_GROUP)).toBe(true);
    const seqs = replies.map((reply) => (reply.ok ? reply.envelopes[0].seq : 0));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('and of at most MAX_BYTES_PER_GROUP bytes of values (one larger command alone)', async () => {
    await seed();
    const MiB = 1024 * 1024;
    const big = (key: string): CacheCommand => ({ type: 'SetValue', key, value: Buffer.alloc(MiB, 1), by: 'tester' });
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => registry.ask(ref, big(`b${i}`))));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    const weights = appends.map((events) => events.reduce((sum, event) => sum + (event.type === 'Set' ? event.value.byteLength : 0), 0));
    expect(weights.reduce((a, b) => a + b, 0)).toBe(12 * MiB);
    expect(weights.every((bytes) => bytes <= MAX_BYTES_PER_GROUP)).toBe(true);
    expect(appends.length).toBeGreaterThanOrEqual(Math.ceil((12 * MiB) / MAX_BYTES_PER_GROUP));
  });

  it('a cut within one group is still one append, answered at once', async () => {
    await seed();
    const reply = await registry.ask(ref, cut(KEYS - 100));
    expect(reply.ok && reply.envelopes.length).toBe(101);
    expect(appends.map((events) => events.length)).toEqual([101]);
  });
});
