import fc from 'fast-check';
import { CacheCommand, CacheState, evolve, initialState, useEntry } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { decodeState, encodeState } from '../../src/journal/codec';
import { Journal } from '../../src/journal/journal';
import { EntityRef } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

/**
 * Random command sequences, with reads that count as use (LRU) and capacity changes, run
 * through the real entities and the real LevelDB journal. Along the way a model (a plain-Map
 * state fed the journaled events and the same reads) checks that every eviction took the
 * least recently used key. Then: replaying the journal from scratch, and from a snapshot
 * taken at any sequence number, gives the live state's entries (their recency order is the
 * reads', which the journal does not hold); the stored snapshot + tail gives the live state
 * order included (a clean shutdown snapshots after the last read); and the projections
 * maintained along the way equal their rebuild.
 */
const REFS: EntityRef[] = [
  { org: 'o1', name: 'a' },
  { org: 'o1', name: 'b' },
  { org: 'o2', name: 'a' },
];
const KEYS = ['k1', 'k2', 'k3', 'ü/..', ''];

const byWho = { by: 'prop', device: null };
const commandArb: fc.Arbitrary<CacheCommand> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ key: fc.constantFrom(...KEYS.slice(0, 4)), value: fc.uint8Array({ maxLength: 12 }), ttl: fc.constantFrom(0, 0, 0, 5, 60) }).map(({ key, value, ttl }) => ({ type: 'SetValue' as const, key, value: Buffer.from(value), ttlSeconds: ttl, ...byWho })) },
  { weight: 2, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ type: 'DeleteKey' as const, key, ...byWho })) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ type: 'ExpireKey' as const, key, ...byWho })) },
  { weight: 1, arbitrary: fc.constant({ type: 'Flush' as const, ...byWho }) },
  { weight: 1, arbitrary: fc.constant({ type: 'DeleteCache' as const, ...byWho }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'x', 'y').map((description) => ({ type: 'CreateCache' as const, description, ...byWho })) },
  { weight: 1, arbitrary: fc.constantFrom('', 'z').map((description) => ({ type: 'ChangeDescription' as const, description, ...byWho })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 3).map((capacity) => ({ type: 'ChangeSettings' as const, settings: { capacity }, ...byWho })) },
);

/** A step: a group of commands sent at once (they may share a mailbox group), then time moves. */
const stepArb = fc.record({
  group: fc.array(fc.record({ ref: fc.integer({ min: 0, max: REFS.length - 1 }), command: commandArb }), { minLength: 1, maxLength: 4 }),
  /** Reads after the group: a hit moves the key to the most recently used end. */
  reads: fc.array(fc.record({ ref: fc.integer({ min: 0, max: REFS.length - 1 }), key: fc.constantFrom(...KEYS.slice(0, 4)) }), { maxLength: 3 }),
  advanceMs: fc.constantFrom(0, 0, 1000, 30_000),
});

function comparable(state: CacheState, order: 'recency' | 'any' = 'recency') {
  const entries = [...state.entries.entries()].map(([key, e]) => [key, Buffer.from(e.value).toString('hex'), e.expiresAt, e.version]);
  if (order === 'any') entries.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
  return { status: state.status, description: state.description, version: state.version, bytes: state.bytes, settings: state.settings, entries };
}

async function replayTo(journal: Journal, id: EntityRef, from: CacheState, fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): Promise<CacheState> {
  for await (const { event } of journal.replay(id, fromSeq, toSeq)) evolve(from, event);
  return from;
}

describe('replay and projections (property)', () => {
  it('replay from scratch or from any snapshot equals the live state; projections equal their rebuild', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 6 }), async (steps, snapshotEvery) => {
        const dir = tempDir('cachelog-prop-');
        const backend = new LevelDbBackend(dir.path, { sync: 'none' });
        await backend.open();
        const { journal, snapshots, inline } = backend;
        let now = Date.UTC(2026, 0, 1);
        const scheduler = new ExpiryScheduler(() => now, () => undefined);
        const registry = new EntityRegistry({ journal, snapshots, scheduler, quota: new OrgQuota(inline), now: () => now, snapshotEvery }, { idleMs: 3_600_000 });
        try {
          const models = REFS.map(() => initialState());
          for (const step of steps) {
            await Promise.all(step.group.map(({ ref, command }) => registry.ask(REFS[ref], command)));
            for (const [i, ref] of REFS.entries()) {
              for await (const { event } of journal.replay(ref, models[i].version + 1)) {
                // The victim is the model's least recently used key (reads included).
                if (event.type === 'Evicted') expect(event.key).toBe(models[i].entries.keys().next().value);
                evolve(models[i], event);
              }
            }
            for (const { ref, key } of step.reads) {
              const entity = await registry.entityNow(REFS[ref]);
              const read = entity.useValue(key, now);
              const modelRead = useEntry(models[ref], key, now);
              expect(read && Buffer.from(read).toString('hex')).toEqual(modelRead && Buffer.from(modelRead.value).toString('hex'));
            }
            now += step.advanceMs;
          }
          await registry.stopAll(); // drains and snapshots

          for (const ref of REFS) {
            const id = ref;
            const liveState = await registry.state(ref);
            const live = comparable(liveState);
            const liveEntries = comparable(liveState, 'any');
            const seq = live.version;
            // The model saw the same events and reads: same entries, same recency order.
            expect(comparable(models[REFS.indexOf(ref)])).toEqual(live);
            // From scratch.
            expect(comparable(await replayTo(journal, id, initialState(), 1), 'any')).toEqual(liveEntries);
            // From a snapshot at every sequence number (encoded and decoded as stored).
            for (let at = 0; at <= seq; at++) {
              const upTo = await replayTo(journal, id, initialState(), 1, at);
              const restored = decodeState(encodeState(upTo));
              expect(comparable(await replayTo(journal, id, restored, at + 1), 'any')).toEqual(liveEntries);
            }
            // From the stored snapshot, as recovery does.
            const stored = await snapshots.load(id);
            if (seq > 0) expect(stored).toBeDefined();
            if (stored) expect(comparable(await replayTo(journal, id, stored.state, stored.seq + 1))).toEqual(live);
          }

          // The inline read models equal their rebuild from the log.
          const maintained = await inline.dump();
          await inline.rebuild();
          expect(await inline.dump()).toEqual(maintained);
          // The key listing holds exactly the keys of the live state.
          for (const ref of REFS) {
            const state = await registry.state(ref);
            const listed = state.status === 'live' ? await inline.listKeys(ref, 0) : [];
            expect([...listed].sort()).toEqual(state.status === 'live' ? [...state.entries.keys()].sort() : []);
          }
          // The org byte totals equal the sum of the caches' bytes.
          const byOrg = new Map<string, number>();
          for (const ref of REFS) byOrg.set(ref.org, (byOrg.get(ref.org) ?? 0) + (await registry.state(ref)).bytes);
          for (const [org, bytes] of byOrg) expect(await inline.orgBytes(org)).toBe(bytes);
        } finally {
          registry.halt();
          await backend.close();
          dir.cleanup();
        }
      }),
      { numRuns: 40, seed: 20261124 },
    );
  });
});
