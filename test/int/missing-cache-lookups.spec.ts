import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * A batch naming thousands of caches that do not exist looked each one up with its own LevelDB
 * get (a get, a callback and a promise on the main thread per name). The name rows of caches
 * asked about together are now read in one store call per 1,024; the answers are the same.
 */
describe('batches over caches that are not loaded: name rows read together', () => {
  let app: TestApp;
  afterAll(() => app?.dispose());
  const acme = tokenFor({ org: 'acme', name: 'alice' });
  const reads = { get: 0, getMany: 0 };

  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', MAX_CACHES_PER_ORG: '4' } });
    for (const name of ['live-a', 'live-b', 'gone']) expect((await http(`${app.url}/${name}/k`, { method: 'POST', token: acme, body: Buffer.from(name) })).status).toBe(201);
    expect((await http(`${app.url}/cacheName/gone`, { method: 'DELETE', token: acme })).status).toBe(202);
    // Restarted: no cache is loaded, every element needs the read model.
    const dir = app.dataDir;
    await app.close();
    app = await startTestApp({ dataDir: dir, env: { JOURNAL_SYNC: 'none', MAX_CACHES_PER_ORG: '4' } });
    countReads();
  });

  /** Counts the reads of the cache-name rows, through the real store. */
  const countReads = () => {
    const names = (app.app.get(JournalBackend) as LevelDbBackend).storage.names;
    const get = names.get.bind(names);
    const getMany = names.getMany.bind(names);
    names.get = ((...args: unknown[]) => (reads.get++, (get as (...a: unknown[]) => unknown)(...args))) as typeof names.get;
    names.getMany = ((...args: unknown[]) => (reads.getMany++, (getMany as (...a: unknown[]) => unknown)(...args))) as typeof names.getMany;
  };

  const mixed = (missing: number) => [
    { cacheName: 'live-a', key: 'k' },
    ...Array.from({ length: missing }, (_, i) => ({ cacheName: `missing-${i}`, key: 'k' })),
    { cacheName: 'gone', key: 'k' },
    { cacheName: 'live-b', key: 'k' },
    { cacheName: 'live-a', key: 'absent' },
  ];

  it('POST /batch/get: the same answers, the rows of 3,000 missing caches read in a few store calls', async () => {
    reads.get = reads.getMany = 0;
    const answer = (await http(`${app.url}/batch/get`, { method: 'POST', token: acme, body: { getCachedBatch: mixed(3_000) } })).json();
    expect(answer.results).toHaveLength(3_004);
    expect(answer.results[0]).toEqual({ cacheName: 'live-a', key: 'k', success: true, value: b64('live-a') });
    expect(answer.results.slice(1, 3_001).every((r: { success: boolean; value: string }, i: number) => r.success === false && r.value === '' && (r as unknown as { cacheName: string }).cacheName === `missing-${i}`)).toBe(true);
    expect(answer.results.slice(3_001)).toEqual([
      { cacheName: 'gone', key: 'k', success: false, value: '' },
      { cacheName: 'live-b', key: 'k', success: true, value: b64('live-b') },
      { cacheName: 'live-a', key: 'absent', success: false, value: '' },
    ]);
    expect(reads.get).toBeLessThanOrEqual(4);
    expect(reads.getMany).toBeLessThanOrEqual(20);
  });

  it('DELETE /batch: the same answers; nothing created, nothing recovered for the missing names', async () => {
    reads.get = reads.getMany = 0;
    const answer = (await http(`${app.url}/batch`, { method: 'DELETE', token: acme, body: { getCachedBatch: mixed(3_000) } })).json();
    const failed = answer.cacheDeleteResponses.filter((r: { success: boolean }) => !r.success).map((r: { cacheName: string }) => r.cacheName);
    // A key that is not there is not deleted either.
    expect(failed).toStrictEqual([...Array.from({ length: 3_000 }, (_, i) => `missing-${i}`), 'gone', 'live-a']);
    expect(reads.get).toBeLessThanOrEqual(4);
    expect(reads.getMany).toBeLessThanOrEqual(10);
    expect((await http(`${app.url}/cacheName/list`, { token: acme })).json().map((r: { cacheName: string }) => r.cacheName).sort()).toEqual(['live-a', 'live-b']);
  });

  it('POST /batch at MAX_CACHES_PER_ORG: existing caches written, every new or deleted name refused', async () => {
    expect((await http(`${app.url}/live-c/k`, { method: 'POST', token: acme, body: Buffer.from('c') })).status).toBe(201);
    expect((await http(`${app.url}/live-d/k`, { method: 'POST', token: acme, body: Buffer.from('d') })).status).toBe(201);
    const dir = app.dataDir;
    await app.close();
    app = await startTestApp({ dataDir: dir, env: { JOURNAL_SYNC: 'none', MAX_CACHES_PER_ORG: '4' } });
    // One write loads the org's count (4: at the limit).
    expect((await http(`${app.url}/live-d/k`, { method: 'POST', token: acme, body: Buffer.from('d2') })).status).toBe(201);
    countReads();
    reads.get = reads.getMany = 0;
    const cacheRequests = mixed(3_000).map(({ cacheName }) => ({ cacheName, key: 'w', value: b64('x') }));
    const answer = (await http(`${app.url}/batch`, { method: 'POST', token: acme, body: { cacheRequests } })).json();
    const succeeded = answer.results.filter((r: { success: boolean }) => r.success).map((r: { cacheName: string }) => r.cacheName);
    expect(succeeded).toStrictEqual(['live-a', 'live-b', 'live-a']);
    expect(reads.get).toBeLessThanOrEqual(4);
    expect(reads.getMany).toBeLessThanOrEqual(10);
    expect((await http(`${app.url}/cacheName/list`, { token: acme })).json()).toHaveLength(4);
  });
});
