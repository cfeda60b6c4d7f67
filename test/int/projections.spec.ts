import { CacheEvent } from '../../src/domain';
import { Journal } from '../../src/journal/journal';
import { EntityRef } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { ReadModelStore } from '../../src/journal/read-model-store';
import { CacheNamesProjection } from '../../src/projections/cache-names.projection';
import { KeyListingProjection } from '../../src/projections/key-listing.projection';
import { ProjectionRunner } from '../../src/projections/projection-runner';
import { tempDir } from '../support/temp-dir';

const meta = { at: 1, by: 't', device: null };
const created: CacheEvent = { ...meta, type: 'Created', description: 'd' };
const set = (key: string, expiresAt = 0): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(key), expiresAt });

async function dump(store: ReadModelStore, space: string): Promise<string[]> {
  const out: string[] = [];
  for await (const [key, value] of store.entries(space)) out.push(`${key.toString('hex')}=${value.toString('hex')}`);
  return out;
}

describe('projections', () => {
  let dir: ReturnType<typeof tempDir>;
  let backend: LevelDbBackend;
  let storage: ReadModelStore;
  let journal: Journal;
  const seqs = new Map<string, number>();

  async function append(ref: EntityRef, ...events: CacheEvent[]) {
    const key = JSON.stringify(ref);
    const current = seqs.get(key) ?? 0;
    seqs.set(key, current + events.length);
    await journal.append(ref, current, events);
  }

  beforeEach(async () => {
    dir = tempDir();
    backend = new LevelDbBackend(dir.path, { sync: 'none' });
    await backend.open();
    ({ journal, readModels: storage } = backend);
    seqs.clear();
  });
  afterEach(async () => {
    await backend.close();
    dir.cleanup();
  });

  const a = { org: 'acme', name: 'a' };
  const b = { org: 'acme', name: 'b' };
  const z = { org: 'zeta', name: 'a' };

  it('lists live keys per cache and live names per org, following the live stream', async () => {
    const keys = new KeyListingProjection(storage);
    const names = new CacheNamesProjection(storage);
    const keyRunner = new ProjectionRunner(storage, journal, keys);
    const nameRunner = new ProjectionRunner(storage, journal, names);
    await keyRunner.start();
    await nameRunner.start();

    await append(a, created, set('k1'), set('k2'), set('old', 5));
    await append(b, created, set('x'));
    await append(z, created, set('secret'));
    await append(b, { ...meta, type: 'Flushed' }, set('y'));
    await append(a, { ...meta, type: 'Deleted', key: 'k1' });
    await append(z, { ...meta, type: 'CacheDeleted' });
    await keyRunner.waitFor(journal.highestOffset);
    await nameRunner.waitFor(journal.highestOffset);

    expect(await keys.list(a, 10)).toEqual(['k2']);
    expect(await keys.list(b, 10)).toEqual(['y']);
    expect(await keys.list(z, 10)).toEqual([]);
    expect(await names.list('acme')).toEqual([
      { cacheName: 'a', description: 'd', deleted: false },
      { cacheName: 'b', description: 'd', deleted: false },
    ]);
    expect(await names.list('zeta')).toEqual([]);
    expect(await names.list('zeta', true)).toEqual([{ cacheName: 'a', description: 'd', deleted: true }]);
    keyRunner.stop();
    nameRunner.stop();
  });

  it('catching up from a stored offset equals a rebuild from scratch', async () => {
    const keys = new KeyListingProjection(storage);
    const runner = new ProjectionRunner(storage, journal, keys);
    await runner.start();
    await append(a, created, set('k1'), set('k2'));
    await append(b, created, set('x'), set('y'));
    await runner.waitFor(journal.highestOffset);
    runner.stop();

    // Events committed while the projection is not running.
    await append(a, { ...meta, type: 'Deleted', key: 'k1' }, set('k3'));
    await append(b, { ...meta, type: 'Flushed' }, set('z'));

    const restarted = new ProjectionRunner(storage, journal, keys);
    await restarted.start();
    expect(restarted.appliedOffset).toBe(journal.highestOffset);
    const incremental = await dump(storage, keys.space);
    expect(await keys.list(a, 0)).toEqual(['k2', 'k3']);
    expect(await keys.list(b, 0)).toEqual(['z']);

    await restarted.rebuild();
    expect(await dump(storage, keys.space)).toEqual(incremental);
    restarted.stop();
  });

  it('stores its offset with its rows, so a reopened database resumes where it stopped', async () => {
    const names = new CacheNamesProjection(storage);
    const runner = new ProjectionRunner(storage, journal, names);
    await runner.start();
    await append(a, created);
    await runner.waitFor(journal.highestOffset);
    runner.stop();
    const offset = runner.appliedOffset;
    await backend.close();

    backend = new LevelDbBackend(dir.path, { sync: 'none' });
    await backend.open();
    ({ journal, readModels: storage } = backend);
    const again = new ProjectionRunner(storage, journal, new CacheNamesProjection(storage));
    await again.start();
    expect(again.appliedOffset).toBe(offset);
    again.stop();
  });

  it('tells whoever waits for an offset that it will not come once the runner stops', async () => {
    const runner = new ProjectionRunner(storage, journal, new CacheNamesProjection(storage));
    await runner.start();
    const pending = runner.waitFor(journal.highestOffset + 1);
    expect(await runner.reached(journal.highestOffset + 1, 20)).toBe(false);
    runner.stop();
    await expect(pending).rejects.toMatchObject({ code: 'PROJECTION_UNAVAILABLE' });
    await expect(runner.waitFor(journal.highestOffset + 1)).rejects.toMatchObject({ code: 'PROJECTION_UNAVAILABLE' });
    await expect(runner.waitFor(0)).resolves.toBeUndefined();
  });
});
