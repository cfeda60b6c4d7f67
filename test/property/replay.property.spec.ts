import fc from 'fast-check';
import { CacheCommand, CacheState, ExpiryChoice, KeyOperation, evolve, initialState, useEntry } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { decodeState, encodeState } from '../../src/journal/codec';
import { Journal } from '../../src/journal/journal';
import { EntityRef } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

/**
 * Random command sequences (key operations as the Redis engine sends them among them), with
 * reads that count as use (LRU) and capacity changes, run
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
const START = Date.UTC(2026, 0, 1);
/** Absolute times around the run (steps move the clock by up to 30 s): past, near and far. */
const timeArb = fc.constantFrom(START - 1000, START + 5_000, START + 60_000, START + 400_000);
const opKey = fc.constantFrom(...KEYS.slice(0, 4));
/** Key operations as the Redis engine sends them (one command per Redis command or EXEC). */
const operationArb: fc.Arbitrary<KeyOperation> = fc.oneof(
  fc.record({ key: opKey, value: fc.uint8Array({ maxLength: 8 }), expiry: fc.oneof(fc.constantFrom<ExpiryChoice>({ kind: 'default' }, { kind: 'keep' }, { kind: 'none' }), timeArb.map((at): ExpiryChoice => ({ kind: 'at', at }))), when: fc.constantFrom('always' as const, 'absent' as const, 'present' as const) })
    .map(({ key, value, expiry, when }): KeyOperation => ({ op: 'set', key, value: Buffer.from(value), expiry, when })),
  fc.record({ key: opKey, at: fc.oneof(fc.constant(0), timeArb), condition: fc.constantFrom(undefined, 'nx' as const, 'xx' as const, 'gt' as const, 'lt' as const) })
    .map(({ key, at, condition }): KeyOperation => ({ op: 'expire', key, at, ...(condition && at !== 0 ? { condition } : {}) })),
  fc.record({ key: opKey, value: fc.uint8Array({ maxLength: 4 }) }).map(({ key, value }): KeyOperation => ({ op: 'append', key, value: Buffer.from(value) })),
  fc.record({ key: opKey, offset: fc.nat(10), bit: fc.constantFrom(0 as const, 1 as const) }).map(({ key, offset, bit }): KeyOperation => ({ op: 'setBit', key, offset, bit })),
  fc.record({ key: opKey, amount: fc.bigInt({ min: -3n, max: 3n }) }).map(({ key, amount }): KeyOperation => ({ op: 'incrBy', key, amount })),
  fc.record({ from: opKey, to: opKey, onlyIfAbsent: fc.boolean() }).map(({ from, to, onlyIfAbsent }): KeyOperation => ({ op: 'rename', from, to, onlyIfAbsent })),
  fc.record({ from: opKey, to: opKey, replace: fc.boolean() }).map(({ from, to, replace }): KeyOperation => ({ op: 'copy', from, to, replace })),
  opKey.map((key): KeyOperation => ({ op: 'delete', key })),
  opKey.map((key): KeyOperation => ({ op: 'read', key })),
  fc.constant<KeyOperation>({ op: 'flush' }),
);

const commandArb: fc.Arbitrary<CacheCommand> = fc.oneof(
  { weight: 4, arbitrary: fc.array(operationArb, { minLength: 1, maxLength: 4 }).map((ops) => ({ type: 'ApplyOperations' as const, ops, ...byWho })) },
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
        let now = START;
        const scheduler = new ExpiryScheduler(() => now, () => undefined);
        const registry = new EntityRegistry({ journal, snapshots, scheduler, quota: new OrgQuota(inline), now: () => now, snapshotEvery }, { idleMs: 3_600_000 });
        try {
          const models = REFS.map(() => initialState());
          for (const step of steps) {
            const replies = await Promise.all(step.group.map(({ ref, command }) => registry.ask(REFS[ref], command)));
            step.group.forEach(({ command }, i) => {
              const reply = replies[i];
              // Key operations answer one result per op, or were aborted (no WATCH here: never).
              if (command.type === 'ApplyOperations' && reply.ok) expect(reply.results?.length).toBe(command.ops.length);
            });
            for (const [i, ref] of REFS.entries()) {
              for await (const { event } of journal.replay(ref, models[i].version + 1)) {
                // The victim is the model's least recently used key (reads included).
                if (event.type === 'Evicted') expect(event.key).toBe(models[i].entries.keys().next().value);
                evolve(models[i], event);
              }
            }
            for (const { ref, key } of step.reads) {
              const entity = await registry.entityNow(REFS[ref]);
              const read = entity!.useValue(key, now);
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
