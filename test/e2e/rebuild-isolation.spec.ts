import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { encodeEntityId } from '../../src/journal/keys';
import { cli } from '../support/cli';
import { finished, submitTask } from '../support/tasks';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('a tenant\'s rebuild touches only its own cache', () => {
  let app: TestApp;
  const acme = tokenFor({ org: 'acme', name: 'alice' });
  const umbrella = tokenFor({ org: 'umbrella', name: 'ursula' });
  afterEach(() => app?.dispose());

  const set = (token: string, cacheName: string, key: string) =>
    http(`${app.url}/set`, { method: 'POST', token, body: { cacheName, key, value: b64('v') } });

  it('never shows another org a partial key listing or cache list while it loops', async () => {
    app = await startTestApp();
    for (let i = 0; i < 40; i++) await set(acme, `a${i % 4}`, `k${i}`);
    const theirKeys = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    for (const key of theirKeys) await set(umbrella, 'u0', key);
    for (let i = 1; i < 5; i++) await set(umbrella, `u${i}`, 'k');

    let looping = true;
    const rebuilds = (async () => {
      let n = 0;
      while (looping || n < 10) {
        const done = await finished(app.url, acme, await submitTask(app.url, acme, { resource_title: `a${n % 4}`, action: 'rebuild' }));
        expect(done).toMatchObject({ task_state: 'SUCCESS', result: { equal: true } });
        n++;
      }
      return n;
    })();
    const seen = { keys: new Set<number>(), names: new Set<number>() };
    for (let i = 0; i < 60; i++) {
      const [keys, names] = await Promise.all([
        http(`${app.url}/cacheName/u0/keys`, { token: umbrella }),
        http(`${app.url}/cacheName/list`, { token: umbrella }),
      ]);
      expect(keys.status).toBe(200);
      seen.keys.add(keys.json().keys.length);
      seen.names.add(names.json().length);
    }
    looping = false;
    expect(await rebuilds).toBeGreaterThanOrEqual(10);
    expect([...seen.keys]).toEqual([60]);
    expect([...seen.names]).toEqual([5]);
  });

  it('repairs its own cache\'s wrong rows in place and says they were not equal', async () => {
    app = await startTestApp();
    for (let i = 0; i < 5; i++) await set(acme, 'mine', `k${i}`);
    await set(umbrella, 'mine', 'theirs');
    const rows = (app.app.get(JournalBackend) as LevelDbBackend).storage.listing;
    // Damage: one row lost, one row that no event justifies.
    await rows.del(Buffer.concat([encodeEntityId({ org: 'acme', name: 'mine' }), Buffer.from('k2')]));
    await rows.put(Buffer.concat([encodeEntityId({ org: 'acme', name: 'mine' }), Buffer.from('ghost')]), Buffer.alloc(12));
    const done = await finished(app.url, acme, await submitTask(app.url, acme, { resource_title: 'mine', action: 'rebuild' }));
    expect(done).toMatchObject({ task_state: 'SUCCESS', result: { equal: false, repairedRows: { 'key-listing': 2, 'cache-names': 0 }, keys: 5 } });
    expect((await http(`${app.url}/cacheName/mine/keys`, { token: acme })).json().keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect((await http(`${app.url}/cacheName/mine/keys`, { token: umbrella })).json().keys).toEqual(['theirs']);
    const again = await finished(app.url, acme, await submitTask(app.url, acme, { resource_title: 'mine', action: 'rebuild' }));
    expect(again).toMatchObject({ task_state: 'SUCCESS', result: { equal: true } });
  });

  it('repairs a cache of more rows than one turn compares (5,000), wherever the wrong rows are', async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } });
    for (let from = 0; from < 12_000; from += 6_000) {
      const cacheRequests = Array.from({ length: 6_000 }, (_, i) => ({ cacheName: 'big', key: `k${String(from + i).padStart(5, '0')}`, value: b64('v') }));
      expect((await http(`${app.url}/batch`, { method: 'POST', token: acme, body: { cacheRequests } })).status).toBe(200);
    }
    const rows = (app.app.get(JournalBackend) as LevelDbBackend).storage.listing;
    const row = (key: string) => Buffer.concat([encodeEntityId({ org: 'acme', name: 'big' }), Buffer.from(key)]);
    // Lost rows in the first, second and third slice of 5,000, and one no event justifies.
    for (const key of ['k00007', 'k05123', 'k11999']) await rows.del(row(key));
    await rows.put(row('k99999-ghost'), Buffer.alloc(12));
    const done = await finished(app.url, acme, await submitTask(app.url, acme, { resource_title: 'big', action: 'rebuild' }));
    expect(done).toMatchObject({ task_state: 'SUCCESS', result: { equal: false, repairedRows: { 'key-listing': 4, 'cache-names': 0 }, keys: 12_000 } });
    const again = await finished(app.url, acme, await submitTask(app.url, acme, { resource_title: 'big', action: 'rebuild' }));
    expect(again).toMatchObject({ task_state: 'SUCCESS', result: { equal: true, keys: 12_000 } });
  });

  it('leaves the global rebuild to the operator\'s offline `cachelog rebuild`', async () => {
    app = await startTestApp();
    for (let i = 0; i < 5; i++) await set(acme, 'mine', `k${i}`);
    await set(umbrella, 'theirs', 'k');
    const dir = app.dataDir;
    const rows = (app.app.get(JournalBackend) as LevelDbBackend).storage.listing;
    await rows.clear();
    await app.close();
    const result = await cli(['rebuild', '--data-dir', dir]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('rebuilt key-listing') });
    app = await startTestApp({ dataDir: dir });
    expect((await http(`${app.url}/cacheName/mine/keys`, { token: acme })).json().keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect((await http(`${app.url}/cacheName/theirs/keys`, { token: umbrella })).json().keys).toEqual(['k']);
  });
});
