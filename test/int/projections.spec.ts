import { CacheEvent } from '../../src/domain';
import { Envelope, Journal } from '../../src/journal/journal';
import { EntityRef, encodeEntityId, readUint64BE, uint64BE } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { ReadModelStore, projectionSpace } from '../../src/journal/read-model-store';
import { Projection, ProjectionBatch, ProjectionRunner } from '../../src/projections/projection-runner';
import { tempDir } from '../support/temp-dir';

const meta = { at: 1, by: 't', device: null };
const created: CacheEvent = { ...meta, type: 'Created', description: 'd' };
const set = (key: string): CacheEvent => ({ ...meta, type: 'Set', key, value: Buffer.from(key), expiresAt: 0 });

/** A projection that needs I/O (it reads its own row): events per cache. */
class EventCounts implements Projection {
  readonly name = 'event-counts';
  readonly space = projectionSpace('event-counts');
  private readonly pending = new Map<string, number>();

  constructor(private readonly store: ReadModelStore) {}

  async apply({ entityId }: Envelope, batch: ProjectionBatch): Promise<void> {
    const id = entityId.toString('latin1');
    const stored = this.pending.get(id) ?? (await this.count(entityId));
    this.pending.set(id, stored + 1);
    batch.put(entityId, uint64BE(stored + 1));
  }

  async count(entityId: Buffer): Promise<number> {
    const value = await this.store.get(this.space, entityId);
    return value === undefined ? 0 : readUint64BE(value, 0);
  }

  forget(): void {
    this.pending.clear();
  }
}

async function dump(store: ReadModelStore, space: string): Promise<string[]> {
  const out: string[] = [];
  for await (const [key, value] of store.entries(space)) out.push(`${key.toString('hex')}=${value.toString('hex')}`);
  return out;
}

describe('projections on the runner (catch-up, then follow())', () => {
  let dir: ReturnType<typeof tempDir>;
  let backend: LevelDbBackend;
  let store: ReadModelStore;
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
    ({ journal, readModels: store } = backend);
    seqs.clear();
  });
  afterEach(async () => {
    await backend.close();
    dir.cleanup();
  });

  const a = { org: 'acme', name: 'a' };
  const b = { org: 'acme', name: 'b' };

  it('applies every event once, following live events after its catch-up', async () => {
    await append(a, created, set('k1'));
    const counts = new EventCounts(store);
    const runner = new ProjectionRunner(store, journal, counts);
    await runner.start();
    expect(runner.appliedOffset).toBe(2);
    await append(a, set('k2'));
    await append(b, created, set('x'), set('y'));
    await runner.waitFor(journal.highestOffset);
    expect(await counts.count(encodeEntityId(a))).toBe(3);
    expect(await counts.count(encodeEntityId(b))).toBe(3);
    runner.stop();
  });

  it('catching up from a stored offset equals a rebuild from scratch', async () => {
    const counts = new EventCounts(store);
    const runner = new ProjectionRunner(store, journal, counts);
    await runner.start();
    await append(a, created, set('k1'), set('k2'));
    await append(b, created, set('x'), set('y'));
    await runner.waitFor(journal.highestOffset);
    runner.stop();

    // Events committed while the projection is not running.
    await append(a, { ...meta, type: 'Deleted', key: 'k1' }, set('k3'));
    await append(b, { ...meta, type: 'Flushed' }, set('z'));

    counts.forget();
    const restarted = new ProjectionRunner(store, journal, counts);
    await restarted.start();
    expect(restarted.appliedOffset).toBe(journal.highestOffset);
    const incremental = await dump(store, counts.space);
    counts.forget();
    await restarted.rebuild();
    counts.forget();
    expect(await dump(store, counts.space)).toEqual(incremental);
    restarted.stop();
  });

  it('stores its offset with its rows, so a reopened database resumes where it stopped', async () => {
    const runner = new ProjectionRunner(store, journal, new EventCounts(store));
    await runner.start();
    await append(a, created);
    await runner.waitFor(journal.highestOffset);
    runner.stop();
    const offset = runner.appliedOffset;
    await backend.close();

    backend = new LevelDbBackend(dir.path, { sync: 'none' });
    await backend.open();
    ({ journal, readModels: store } = backend);
    const again = new ProjectionRunner(store, journal, new EventCounts(store));
    await again.start();
    expect(again.appliedOffset).toBe(offset);
    again.stop();
  });

  it('tells whoever waits for an offset that it will not come once the runner stops', async () => {
    const runner = new ProjectionRunner(store, journal, new EventCounts(store));
    await runner.start();
    const pending = runner.waitFor(journal.highestOffset + 1);
    expect(await runner.reached(journal.highestOffset + 1, 20)).toBe(false);
    runner.stop();
    await expect(pending).rejects.toMatchObject({ code: 'PROJECTION_UNAVAILABLE' });
    await expect(runner.waitFor(journal.highestOffset + 1)).rejects.toMatchObject({ code: 'PROJECTION_UNAVAILABLE' });
    await expect(runner.waitFor(0)).resolves.toBeUndefined();
  });
});
