import { Observable } from 'rxjs';
import { CacheEvent } from '../../src/domain';
import { Envelope } from '../../src/journal/journal';
import { encodeEntityId } from '../../src/journal/keys';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { projectionSpace } from '../../src/journal/read-model-store';
import { Projection, ProjectionBatch, ProjectionRunner } from '../../src/projections/projection-runner';
import { tempDir } from '../support/temp-dir';

const set = (key: string): CacheEvent => ({ at: 1, by: 't', device: null, type: 'Set', key, value: Buffer.from(key), expiresAt: 0 });

/**
 * A projection is a live-stream subscriber too: a stream that fails under it (a journal read
 * failing during follow()'s catch-up) was an error nobody handled, which rxjs rethrows as an
 * uncaught exception. Now it is a failed run: logged, and caught up again from the stored offset.
 */
describe('a projection whose live stream fails', () => {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  beforeAll(() => process.on('uncaughtException', record));
  afterAll(() => process.off('uncaughtException', record));

  it('logs, catches up again and applies every event once; nothing reaches the process', async () => {
    const dir = tempDir();
    const backend = new LevelDbBackend(dir.path, { sync: 'none' });
    await backend.open();
    const { journal, readModels: store } = backend;
    const seen: number[] = [];
    const projection: Projection = {
      name: 'seen',
      space: projectionSpace('seen'),
      apply: (envelope: Envelope, batch: ProjectionBatch) => {
        seen.push(envelope.offset);
        batch.put(encodeEntityId(envelope.ref), Buffer.from([1]));
      },
    };
    const follow = journal.follow.bind(journal);
    let failures = 1;
    journal.follow = (after: number) =>
      failures-- > 0 ? new Observable<readonly Envelope[]>((subscriber) => {
            setTimeout(() => subscriber.error(new Error('read failed')), 10);
          }) : follow(after);
    const runner = new ProjectionRunner(store, journal, projection);
    try {
      await runner.start();
      await journal.append({ org: 'o', name: 'c' }, 0, [set('a'), set('b')]);
      await runner.waitFor(journal.highestOffset); // after the failed stream, the runner caught up again
      expect(seen).toEqual([1, 2]);
      await journal.append({ org: 'o', name: 'c' }, 2, [set('c')]);
      await runner.waitFor(journal.highestOffset);
      expect(seen).toEqual([1, 2, 3]);
      expect(uncaught).toStrictEqual([]);
    } finally {
      runner.stop();
      await backend.close();
      dir.cleanup();
    }
  });
});
