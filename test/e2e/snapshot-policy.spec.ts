import { SnapshotStore } from '../../src/journal/snapshot-store';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const token = tokenFor({ org: 'snap' });
const put = (app: TestApp, cache: string, key: string, value: Buffer) => http(`${app.url}/${cache}/${key}`, { method: 'POST', token, body: value });
const snapshotSeqs = (app: TestApp, name: string) => app.app.get(SnapshotStore).seqs({ org: 'snap', name });

describe('the snapshot policy, by bytes journaled', () => {
  let app: TestApp;
  afterEach(() => app?.dispose());

  it('snapshots a cache once SNAPSHOT_BYTES were journaled, long before SNAPSHOT_EVERY events', async () => {
    app = await startTestApp({ env: { SNAPSHOT_EVERY: '1000000', SNAPSHOT_BYTES: '1000' } });
    expect((await put(app, 'c', 'k', Buffer.alloc(600))).status).toBe(201);
    expect(await snapshotSeqs(app, 'c')).toStrictEqual([]);
    expect((await put(app, 'c', 'k', Buffer.alloc(600))).status).toBe(201); // ~1300 bytes journaled, the cache holds 600
    for (let i = 0; i < 100 && (await snapshotSeqs(app, 'c')).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await snapshotSeqs(app, 'c')).toEqual([3]);
  });

  it('takes no snapshot below SNAPSHOT_BYTES and SNAPSHOT_EVERY', async () => {
    app = await startTestApp({ env: { SNAPSHOT_EVERY: '1000000' } });
    for (let i = 0; i < 5; i++) expect((await put(app, 'c', 'k', Buffer.alloc(600))).status).toBe(201);
    expect(await snapshotSeqs(app, 'c')).toStrictEqual([]);
  });

  it('never snapshots a cache more often than once per its own size in bytes written', async () => {
    app = await startTestApp({ env: { SNAPSHOT_EVERY: '1' } });
    for (let i = 0; i < 10; i++) expect((await put(app, 'big', `k${i}`, Buffer.alloc(100))).status).toBe(201);
    // Seq 2 (Created + the first Set) was worth a snapshot; each later Set adds ~134 bytes
    // to a cache already larger than that, so none of them was.
    expect(await snapshotSeqs(app, 'big')).toEqual([2]);
  });
});
