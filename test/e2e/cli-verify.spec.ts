import { decodeState, encodeState } from '../../src/journal/codec';
import { MAX_SEQ, encodeEntityId, withSeq } from '../../src/journal/keys';
import { Storage } from '../../src/journal/leveldb/storage';
import { cli } from '../support/cli';
import { ManualClock } from '../support/manual-clock';
import { tempDir } from '../support/temp-dir';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * `cachelog verify` compares what the journal determines (keys, values, versions, expiries,
 * settings, status, description, byte count), not the recency order that reads change: a
 * snapshot taken after a GET keeps the key the GET used last, a replay orders keys by their
 * writes, and both are the same cache.
 */
describe('cachelog verify after reads', () => {
  const clock = new ManualClock();
  const token = tokenFor({ org: 'acme', name: 'alice' });
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const d of dirs.splice(0)) d.cleanup();
  });

  /** Three writes, settings, a GET of the first key (now the most recently used), a clean stop. */
  async function writesThenReadThenStop(): Promise<string> {
    const d = tempDir();
    dirs.push(d);
    app = await startTestApp({ dataDir: d.path, clock });
    const set = (key: string, value: string, ttlSeconds = 0) =>
      http(`${app!.url}/set`, { method: 'POST', token, body: { cacheName: 'users', key, value: Buffer.from(value).toString('base64'), ttlSeconds } });
    expect((await set('a', 'one', 3600)).status).toBe(201);
    expect((await set('b', 'two')).status).toBe(201);
    expect((await set('c', 'three')).status).toBe(201);
    expect((await http(`${app.url}/cacheName/users/settings`, { method: 'PUT', token, body: { capacity: 10 } })).status).toBe(200);
    expect((await http(`${app.url}/users/a`, { token })).text).toBe('one');
    await app.close();
    app = undefined;
    return d.path;
  }

  /** Rewrites the cache's newest snapshot through `change` (a decodable snapshot that says something else). */
  async function tamper(dataDir: string, change: (state: ReturnType<typeof decodeState>) => void): Promise<void> {
    const storage = new Storage(dataDir);
    await storage.open();
    try {
      const id = encodeEntityId({ org: 'acme', name: 'users' });
      const [[key, value]] = await storage.snapshots.iterator({ gte: withSeq(id, 0), lte: withSeq(id, MAX_SEQ), reverse: true, limit: 1 }).all();
      const state = decodeState(value);
      change(state);
      await storage.snapshots.put(key, encodeState(state));
    } finally {
      await storage.close();
    }
  }

  it('says OK after writes, a GET and a clean stop: the recency order a read changed is not compared', async () => {
    const dataDir = await writesThenReadThenStop();
    const result = await cli(['verify', '--data-dir', dataDir]);
    expect(result.stdout).toMatch(/^OK: 1 caches, 5 events, [1-9]\d* snapshots, 0 problems$/m);
    expect(result.code).toBe(0);
  });

  it.each([
    ['a value', (s: ReturnType<typeof decodeState>) => s.entries.set('b', { ...s.entries.get('b')!, value: Buffer.from('TWO') }), /key "b": the value differs/],
    ['a version', (s: ReturnType<typeof decodeState>) => s.entries.set('b', { ...s.entries.get('b')!, version: 9 }), /key "b": the version differs/],
    ['an expiry', (s: ReturnType<typeof decodeState>) => s.entries.set('a', { ...s.entries.get('a')!, expiresAt: 0 }), /key "a": the expiry differs/],
    ['a missing key', (s: ReturnType<typeof decodeState>) => s.entries.delete('c'), /2 keys where the journal gives 3/],
    ['a settings field', (s: ReturnType<typeof decodeState>) => (s.settings = { ...s.settings, capacity: 11 }), /the settings differ/],
  ])('still fails when the snapshot has %s the journal does not give', async (_what, change, problem) => {
    const dataDir = await writesThenReadThenStop();
    await tamper(dataDir, change);
    const result = await cli(['verify', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^PROBLEM "acme"\/"users": the snapshot at seq 5 differs from the state the journal gives there/m);
    expect(result.stdout).toMatch(problem);
    expect(result.stdout).toMatch(/^FAILED: .* 1 problems$/m);
  });
});
