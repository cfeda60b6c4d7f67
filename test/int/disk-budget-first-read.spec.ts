import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { orgBytesKey } from '../../src/journal/leveldb/leveldb-inline-read-models';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');

/**
 * After a start an org's journal bytes are unknown until read: each command used to start its
 * own LevelDB read of them (a 10,000-element batch did 10,000, a 1-1.4 s stall), and was let
 * through before any landed. Now one read per org is in flight and the commands are judged
 * when it lands.
 */
describe('disk budget: the first commands of an org after a start', () => {
  let app: TestApp;
  afterEach(() => app?.dispose());
  const env = { JOURNAL_SYNC: 'none', ORG_DISK_BUDGET_BYTES: String(256 * 1024), HISTORY_COMPACT_FACTOR: '0', MAX_CACHES_PER_ORG: '100000' };
  const acme = tokenFor({ org: 'acme', name: 'alice' });

  /** Counts the LevelDB reads of the org's journal-bytes row, through the real store. */
  const countOrgRowReads = (org: string): { n: number } => {
    const space = (app.app.get(JournalBackend) as LevelDbBackend).storage.journalBytes;
    const key = orgBytesKey(org);
    const real = space.get.bind(space);
    const count = { n: 0 };
    space.get = ((k: Buffer, ...rest: unknown[]) => {
      if (Buffer.isBuffer(k) && k.equals(key)) count.n++;
      return (real as (...args: unknown[]) => unknown)(k, ...rest);
    }) as typeof space.get;
    return count;
  };

  const restart = async () => {
    const dir = app.dataDir;
    await app.close();
    app = await startTestApp({ dataDir: dir, env });
  };

  it('reads the org row once for a batch of 5,000 commands, and takes them all', async () => {
    app = await startTestApp({ env });
    expect((await http(`${app.url}/c/k`, { method: 'POST', token: acme, body: Buffer.from('v') })).status).toBe(201);
    await restart();
    const reads = countOrgRowReads('acme');
    const cacheRequests = Array.from({ length: 5_000 }, (_, i) => ({ cacheName: `c${i % 50}`, key: `k${i}`, value: b64(1) }));
    const answer = await http(`${app.url}/batch`, { method: 'POST', token: acme, body: { cacheRequests } });
    expect(answer.status).toBe(200);
    expect(answer.json().complete).toBe(true);
    expect(reads.n).toBe(1);
  });

  it('refuses every write of the first batch of an org over its budget after a start; a deletion passes', async () => {
    app = await startTestApp({ env });
    let refused = false;
    for (let i = 0; i < 40 && !refused; i++) {
      refused = (await http(`${app.url}/c/k${i}`, { method: 'POST', token: acme, body: Buffer.alloc(16 * 1024, 1) })).status !== 201;
    }
    expect(refused).toBe(true);
    await restart();
    const cacheRequests = Array.from({ length: 200 }, (_, i) => ({ cacheName: 'c', key: `n${i}`, value: b64(1) }));
    const answer = (await http(`${app.url}/batch`, { method: 'POST', token: acme, body: { cacheRequests } })).json();
    expect(answer.results.filter((r: { success: boolean }) => r.success)).toStrictEqual([]);
    const single = await http(`${app.url}/c/one`, { method: 'POST', token: acme, body: Buffer.from('v') });
    expect(single.json().code).toBe('DISK_BUDGET_EXCEEDED');
    expect((await http(`${app.url}/c/k0`, { method: 'DELETE', token: acme })).status).toBeLessThan(300);
  });
});
