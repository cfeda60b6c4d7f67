import { CacheEvent } from '../../src/domain';
import { EntityRegistry } from '../../src/entities/entity-registry';
import { ExpiryScheduler } from '../../src/entities/expiry-scheduler';
import { OrgQuota } from '../../src/entities/org-quota';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { tempDir } from '../support/temp-dir';

const meta = { at: 1, by: 't', device: null };
const set = (key: string, expiresAt = 0): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(key), expiresAt });

describe('caches recover on first use, each on its own', () => {
  let dir: ReturnType<typeof tempDir>;
  let backend: LevelDbBackend;
  let registry: EntityRegistry;
  const now = 10_000;
  beforeEach(async () => {
    dir = tempDir();
    backend = new LevelDbBackend(dir.path);
    await backend.open();
    const scheduler = new ExpiryScheduler(() => now, () => undefined);
    registry = new EntityRegistry(
      { journal: backend.journal, snapshots: backend.snapshots, scheduler, quota: new OrgQuota(backend.inline), now: () => now, snapshotEvery: 1000 },
      { idleMs: 3_600_000 },
    );
  });
  afterEach(async () => {
    registry.halt();
    await backend.close();
    dir.cleanup();
  });

  it('a cache waits for a write made for it while it was not loaded; another cache does not', async () => {
    const a = { org: 'o', name: 'a' };
    const b = { org: 'o', name: 'b' };
    await backend.journal.append(a, 0, [{ ...meta, type: 'Created', description: '' }, set('due', 5_000), set('stays')]);
    await backend.journal.append(b, 0, [{ ...meta, type: 'Created', description: '' }, set('k')]);

    // Hold the journal's writes so the expiry of a's due key stays under way.
    let release!: () => void;
    const held = backend.journal.exclusive(() => new Promise<void>((resolve) => (release = resolve)));
    const due = await backend.inline.dueExpiries(now, 10);
    expect(due).toEqual([{ ref: a, key: 'due', expiresAt: 5_000 }]);
    const expiring = registry.expireDue(due);

    const entityA = registry.entity(a);
    const entityB = registry.entity(b);
    await entityB.ready; // b recovers while a's write is held
    expect(entityB.state.entries.size).toBe(1);
    expect(entityA.isReady).toBe(false);

    release();
    await held;
    await expiring;
    await entityA.ready; // a recovers after the write made for it, with it
    expect(entityA.seq).toBe(4);
    expect([...entityA.state.entries.keys()]).toEqual(['stays']);
    expect(await backend.inline.dueExpiries(now, 10)).toStrictEqual([]);
  });
});
