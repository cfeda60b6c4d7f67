import fc from 'fast-check';
import { CacheCommand, CacheState, evolve, initialState } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { decodeState, encodeState } from '../../src/journal/codec';
import { Journal } from '../../src/journal/journal';
import { EntityRef } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

/**
 * Random command sequences run through the real entities and the real LevelDB journal.
 * Then: replaying the journal from scratch, and from a snapshot taken at any sequence
 * number, gives the live state; the stored snapshot + tail gives it too; and the
 * projections maintained along the way equal their rebuild.
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
);

/** A step: a group of commands sent at once (they may share a mailbox group), then time moves. */
const stepArb = fc.record({
  group: fc.array(fc.record({ ref: fc.integer({ min: 0, max: REFS.length - 1 }), command: commandArb }), { minLength: 1, maxLength: 4 }),
  advanceMs: fc.constantFrom(0, 0, 1000, 30_000),
});

function comparable(state: CacheState) {
  return {
    status: state.status,
    description: state.description,
    version: state.version,
    bytes: state.bytes,
    entries: [...state.entries.entries()].map(([key, e]) => [key, Buffer.from(e.value).toString('hex'), e.expiresAt, e.version]),
  };
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
          for (const step of steps) {
            await Promise.all(step.group.map(({ ref, command }) => registry.ask(REFS[ref], command)));
            now += step.advanceMs;
          }
          await registry.stopAll(); // drains and snapshots

          for (const ref of REFS) {
            const id = ref;
            const live = comparable(await registry.state(ref));
            const seq = live.version;
            // From scratch.
            expect(comparable(await replayTo(journal, id, initialState(), 1))).toEqual(live);
            // From a snapshot at every sequence number (encoded and decoded as stored).
            for (let at = 0; at <= seq; at++) {
              const upTo = await replayTo(journal, id, initialState(), 1, at);
              const restored = decodeState(encodeState(upTo));
              expect(comparable(await replayTo(journal, id, restored, at + 1))).toEqual(live);
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
