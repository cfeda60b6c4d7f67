import { Writable } from 'node:stream';
import { AutoCompactor } from '../../src/entities/auto-compactor';
import { InlineReadModels } from '../../src/journal/inline-read-models';
import { DISK_FLAG_KEY, LevelDbInlineReadModels } from '../../src/journal/leveldb/leveldb-inline-read-models';
import { Storage } from '../../src/journal/leveldb/storage';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

class CapturedLog extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const KiB = 1024;

/**
 * A data directory written before the journal-bytes rows existed has neither the rows nor
 * their flag: its first start counts them from the stored events, once, and says so in the
 * log. The figures are those the group commits kept, and the disk budget refuses as before.
 */
describe('budget: journal bytes of an older data directory', () => {
  const dir = tempDir();
  let app: TestApp | undefined;
  afterEach(() => app?.close());
  afterAll(() => dir.cleanup());

  const env = { JOURNAL_SYNC: 'none', ORG_DISK_BUDGET_BYTES: String(600 * KiB), HISTORY_COMPACT_FACTOR: '0' };
  const heavy = tokenFor({ org: 'heavy' });
  const light = tokenFor({ org: 'light' });

  async function figures(running: TestApp) {
    const rows = running.app.get(InlineReadModels) as LevelDbInlineReadModels;
    return {
      heavy: await rows.journalBytes('heavy'),
      light: await rows.journalBytes('light'),
      total: rows.totalJournalBytesNow(),
      heavyCache: await rows.cacheJournalBytes({ org: 'heavy', name: 'c' }),
      lightCaches: [await rows.cacheJournalBytes({ org: 'light', name: 'a' }), await rows.cacheJournalBytes({ org: 'light', name: 'b' })],
    };
  }

  it('counts them at its first start, to the figures a fresh run kept, and the disk budget refuses as before', async () => {
    app = await startTestApp({ env, dataDir: dir.path });
    const value = Buffer.alloc(200 * KiB, 7);
    let refused;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const answer = await http(`${app.url}/c/k`, { method: 'POST', token: heavy, body: value });
      if (answer.status !== 201) refused = answer;
    }
    expect(refused?.json().code).toBe('DISK_BUDGET_EXCEEDED');
    for (const cache of ['a', 'b']) {
      expect((await http(`${app.url}/cacheName`, { method: 'POST', token: light, body: { cacheName: cache, description: `cache ${cache}` } })).status).toBe(201);
      for (let i = 0; i < 5; i++) expect((await http(`${app.url}/${cache}/key${i}`, { method: 'POST', token: light, body: Buffer.from(`value ${i}`) })).status).toBe(201);
    }
    expect((await http(`${app.url}/a/key0`, { method: 'DELETE', token: light })).status).toBeLessThan(300);
    const fresh = await figures(app);
    expect(fresh.heavy).toBeGreaterThanOrEqual(600 * KiB);
    expect(fresh.light).toBeGreaterThan(0);
    expect(fresh.total).toBe(fresh.heavy! + fresh.light!);
    await app.close();

    // As a directory from before the rows: none of them, and no flag.
    const storage = new Storage(dir.path);
    await storage.open();
    await storage.journalBytes.clear();
    await storage.meta.del(DISK_FLAG_KEY);
    expect(await storage.journalBytes.keys().all()).toStrictEqual([]);
    await storage.close();

    const log = new CapturedLog();
    app = await startTestApp({ env, dataDir: dir.path, logger: ['log', 'error', 'warn'], logDestination: log });
    expect(log.text).toMatch(/counting journal bytes per cache and org from the journal \(the data directory was written before journal bytes were counted\)/);
    expect(log.text).toMatch(/counted journal bytes: \d+ events of 3 caches weigh \d+ bytes/);
    expect(await figures(app)).toEqual(fresh);
    const again = await http(`${app.url}/c/k`, { method: 'POST', token: heavy, body: Buffer.from('x') });
    expect(again.status).toBe(400);
    expect(again.json().code).toBe('DISK_BUDGET_EXCEEDED');
    expect((await http(`${app.url}/a/more`, { method: 'POST', token: light, body: Buffer.from('y') })).status).toBe(201);
    await app.close();

    // Once counted, a start does not count again.
    const quiet = new CapturedLog();
    app = await startTestApp({ env, dataDir: dir.path, logger: ['log', 'error', 'warn'], logDestination: quiet });
    expect(quiet.text).not.toMatch(/counting journal bytes/);
    expect((await figures(app)).heavy).toBe(fresh.heavy);
  });

  it('after compactions, which weigh what they drop from what their replay read, the figures are those a recount finds', async () => {
    const compacting = { JOURNAL_SYNC: 'none', HISTORY_COMPACT_MIN_BYTES: String(64 * KiB) };
    const other = tempDir();
    try {
      app = await startTestApp({ env: compacting, dataDir: other.path });
      const compactor = app.app.get(AutoCompactor);
      const value = Buffer.alloc(100 * KiB, 3);
      for (let i = 0; i < 30; i++) {
        value[0] = i;
        expect((await http(`${app.url}/c/k${i % 2}`, { method: 'POST', token: heavy, body: value })).status).toBe(201);
        expect((await http(`${app.url}/a/key${i % 3}`, { method: 'POST', token: light, body: Buffer.from(`value ${i}`) })).status).toBe(201);
      }
      for (let i = 0; i < 3000 && compactor.done < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      await compactor.stop();
      expect(compactor.done).toBeGreaterThanOrEqual(3);
      const kept = { heavy: await app.app.get(InlineReadModels).journalBytes('heavy'), light: await app.app.get(InlineReadModels).journalBytes('light') };
      await app.close();

      const storage = new Storage(other.path);
      await storage.open();
      await storage.journalBytes.clear();
      await storage.meta.del(DISK_FLAG_KEY);
      await storage.close();
      app = await startTestApp({ env: { ...compacting, HISTORY_COMPACT_FACTOR: '0' }, dataDir: other.path });
      const rows = app.app.get(InlineReadModels);
      expect({ heavy: await rows.journalBytes('heavy'), light: await rows.journalBytes('light') }).toEqual(kept);
      expect(kept.heavy).toBeLessThan(30 * 100 * KiB);
    } finally {
      await app?.close();
      app = undefined;
      other.cleanup();
    }
  });
});
