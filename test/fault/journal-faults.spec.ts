import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { Storage } from '../../src/journal/leveldb/storage';
import { readUint64BE } from '../../src/journal/keys';
import { TEST_SECRET, TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

const token = tokenFor({ org: 'faults' });
const put = (app: TestApp, cache: string, key: string, value: string) =>
  http(`${app.url}/${cache}/${key}`, { method: 'POST', token, body: Buffer.from(value) });
const get = (app: TestApp, cache: string, key: string) => http(`${app.url}/${cache}/${key}`, { token });

/** Every journal record of the data directory: [entity key, value] in key order. */
async function journalRecords(storage: Storage): Promise<Array<[Buffer, Buffer]>> {
  const out: Array<[Buffer, Buffer]> = [];
  for await (const entry of storage.journal.iterator()) out.push(entry);
  return out;
}

/** The journal key of the newest event (highest global offset). */
async function newestJournalKey(storage: Storage): Promise<{ key: Buffer; offset: number }> {
  for await (const [key, value] of storage.global.iterator({ reverse: true, limit: 1 })) return { key: value, offset: readUint64BE(key, 0) };
  throw new Error('empty journal');
}

async function withStorage<T>(dir: string, body: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = new Storage(dir);
  await storage.open();
  try {
    return await body(storage);
  } finally {
    await storage.close();
  }
}

describe('a journal write that fails', () => {
  let app: TestApp;
  afterEach(() => app?.dispose());

  it('answers 503 JOURNAL_UNAVAILABLE while the database is closed, changes nothing, and recovers', async () => {
    app = await startTestApp();
    expect((await put(app, 'c', 'k1', 'one')).status).toBe(201);
    const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
    const before = (await journalRecords(storage)).length;
    await storage.db.close();

    const failed = await put(app, 'c', 'k2', 'two');
    expect(failed.status).toBe(503);
    expect(failed.json()).toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
    const overwrite = await put(app, 'c', 'k1', 'changed');
    expect(overwrite.status).toBe(503);
    // Reads see only committed state.
    expect((await get(app, 'c', 'k2')).status).toBe(404);
    expect((await get(app, 'c', 'k1')).text).toBe('one');

    await storage.db.open();
    for (const space of [storage.journal, storage.global, storage.eventOffsets, storage.snapshots, storage.projections, storage.offsets, storage.meta]) await space.open();
    expect((await journalRecords(storage)).length).toBe(before);
    expect((await put(app, 'c', 'k2', 'two')).status).toBe(201);
    expect((await get(app, 'c', 'k2')).text).toBe('two');

    // After a restart: every acknowledged write, no sequence gap (recovery would refuse one).
    const dir = app.dataDir;
    await app.close();
    const again = await startTestApp({ dataDir: dir });
    try {
      expect((await get(again, 'c', 'k1')).text).toBe('one');
      expect((await get(again, 'c', 'k2')).text).toBe('two');
    } finally {
      await again.dispose();
    }
  });

  it('answers 503 when the disk is full (ENOSPC from the batch) and leaves the state as it was', async () => {
    app = await startTestApp();
    expect((await put(app, 'c', 'k1', 'one')).status).toBe(201);
    const storage = (app.app.get(JournalBackend) as LevelDbBackend).storage;
    const batch = storage.db.batch.bind(storage.db);
    let failures = 2;
    // Fault injection at the storage boundary: the next two batches fail as a full disk does.
    (storage.db as unknown as { batch: unknown }).batch = (...args: unknown[]) => {
      if (failures-- > 0) return Promise.reject(Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' }));
      return (batch as (...a: unknown[]) => Promise<void>)(...args);
    };
    const failed = await put(app, 'c', 'k1', 'two');
    expect(failed.status).toBe(503);
    expect(failed.json().code).toBe('JOURNAL_UNAVAILABLE');
    expect(failed.json().message).toMatch(/No space left/);
    expect((await get(app, 'c', 'k1')).text).toBe('one');
    // The failure may have been taken by the projection's batch; retry until the journal one is past.
    let status = 0;
    for (let i = 0; i < 3 && status !== 201; i++) status = (await put(app, 'c', 'k1', 'three')).status;
    expect(status).toBe(201);
    expect((await get(app, 'c', 'k1')).text).toBe('three');
  });
});

describe('a damaged journal record', () => {
  const dirs: Array<{ cleanup: () => void }> = [];
  afterAll(() => dirs.forEach((d) => d.cleanup()));

  async function dataWithDamagedTail(damage: (value: Buffer) => Buffer): Promise<{ dir: string; offset: number }> {
    const dir = tempDir();
    dirs.push(dir);
    const app = await startTestApp({ dataDir: dir.path });
    for (let i = 0; i < 5; i++) expect((await put(app, 'c', `k${i}`, `v${i}`)).status).toBe(201);
    await app.close();
    const offset = await withStorage(dir.path, async (storage) => {
      const newest = await newestJournalKey(storage);
      const value = (await storage.journal.get(newest.key))!;
      await storage.journal.put(newest.key, damage(Buffer.from(value)));
      return newest.offset;
    });
    return { dir: dir.path, offset };
  }

  it.each([
    ['a flipped byte', (value: Buffer) => ((value[value.length - 1] ^= 0x55), value)],
    ['a truncated record', (value: Buffer) => value.subarray(0, 3)],
  ])('stops the start naming the record (%s), and REPAIR=true truncates to the last good one', async (_what, damage) => {
    const { dir, offset } = await dataWithDamagedTail(damage);
    await expect(startTestApp({ dataDir: dir })).rejects.toThrow(
      new RegExp(`journal record \\{"org":"faults","name":"c"\\} seq \\d+ \\(global offset ${offset}\\) is corrupt: .*REPAIR=true`),
    );

    const repaired = await startTestApp({ dataDir: dir, env: { REPAIR: 'true' } });
    try {
      for (let i = 0; i < 4; i++) expect((await get(repaired, 'c', `k${i}`)).text).toBe(`v${i}`);
      expect((await get(repaired, 'c', 'k4')).status).toBe(404);
      // The projections were rebuilt without the removed event; writing goes on without a gap.
      expect((await http(`${repaired.url}/cacheName/c/keys`, { token })).json().keys.sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
      // History offsets are there at once (they were null until the next restart when a
      // runner that was started before the repair kept them).
      const history = (await http(`${repaired.url}/cacheName/c/events`, { token })).json().events as Array<{ seq: number; offset: number | null }>;
      expect(history.length).toBeGreaterThan(0);
      expect(history.map((e) => e.offset)).toEqual(history.map((e) => e.seq));
      expect((await put(repaired, 'c', 'k4', 'again')).status).toBe(201);
    } finally {
      await repaired.close();
    }
    const reopened = await startTestApp({ dataDir: dir });
    try {
      expect((await get(reopened, 'c', 'k4')).text).toBe('again');
    } finally {
      await reopened.close();
    }
  });

  it('makes `node dist/main.js` exit 1 with a clear message', async () => {
    const { dir } = await dataWithDamagedTail((value) => ((value[6] ^= 0xff), value));
    const result = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'main.js')], {
      env: { ...process.env, DATA_DIR: dir, JWT_SECRET: TEST_SECRET, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cachelog refuses to start: journal record \{"org":"faults","name":"c"\} seq \d+ .* is corrupt: checksum mismatch/);
  });
});
