import { setTimeout as sleep } from 'node:timers/promises';
import { AutoCompactor } from '../../src/entities/auto-compactor';
import { InlineReadModels } from '../../src/journal/inline-read-models';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const MiB = 1024 * 1024;

/**
 * Disk budget: the journal kept every overwrite and no per-org bound covered it (one org
 * overwriting one 1 MiB key within a 5 MB quota filled the volume; every org then got 503).
 * Now the LevelDB journal counts each org's journal bytes in its own writes, a cache whose
 * retained history passes HISTORY_COMPACT_FACTOR × its live size is compacted by itself,
 * writes past ORG_DISK_BUDGET_BYTES (or a spent DISK_BUDGET_BYTES) are refused with a 4xx,
 * deletions pass, and /health/ready says which budget is spent.
 */
describe('budget: journal bytes per org', () => {
  let app: TestApp;
  afterEach(() => app?.dispose());

  /** Polls until `condition` holds (at most ~60 s, then the assertion after it fails). */
  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 3000 && !condition(); i++) await sleep(20);
  };

  it('an org overwriting one 1 MiB key within its byte quota is compacted by itself and never reaches its disk budget', async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: String(5_000_000) } });
    const token = tokenFor({ org: 'overwriter' });
    const readModels = app.app.get(InlineReadModels);
    const compactor = app.app.get(AutoCompactor);
    const value = Buffer.alloc(MiB, 1);
    let most = 0;
    for (let i = 0; i < 40; i++) {
      value[0] = i;
      expect((await http(`${app.url}/big/k`, { method: 'POST', token, body: value })).status).toBe(201);
      most = Math.max(most, readModels.journalBytesNow('overwriter') ?? 0);
    }
    await until(() => compactor.done > 0);
    expect(compactor.done).toBeGreaterThan(0);
    // 40 MiB written, every write taken; the org's disk budget (by default (factor + 2) × its
    // quota + 64 MiB) was never near: the journal held the history of the writes made while a
    // compaction ran, not all of them.
    expect(most).toBeLessThan(40 * MiB);
    // Once the writes stop, what is retained is within HISTORY_COMPACT_FACTOR (4) × the live MiB + HISTORY_COMPACT_MIN_BYTES (1 MiB).
    await until(() => (readModels.journalBytesNow('overwriter') ?? Infinity) <= 5 * MiB + 64 * 1024);
    expect(readModels.journalBytesNow('overwriter')).toBeLessThanOrEqual(5 * MiB + 64 * 1024);
    expect((await http(`${app.url}/big/k`, { token })).body[0]).toBe(39);
    // The history before the cut is gone as compaction says; the present is intact.
    expect((await http(`${app.url}/big/k?at=3`, { token })).status).toBe(410);
  }, 120_000);

  it('refuses writes past ORG_DISK_BUDGET_BYTES with a clear 4xx, lets deletions through, and another org writes on', async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', ORG_DISK_BUDGET_BYTES: String(3 * MiB), HISTORY_COMPACT_FACTOR: '0', DISK_BUDGET_BYTES: String(7 * MiB) } });
    const filler = tokenFor({ org: 'filler' });
    const other = tokenFor({ org: 'other' });
    const value = Buffer.alloc(MiB / 2, 2);
    let refused;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const answer = await http(`${app.url}/c/k${i % 2}`, { method: 'POST', token: filler, body: value });
      if (answer.status !== 201) refused = answer;
    }
    expect(refused?.status).toBe(400);
    expect(refused?.json().code).toBe('DISK_BUDGET_EXCEEDED');
    expect(refused?.json().message).toContain('ORG_DISK_BUDGET_BYTES');
    expect((await http(`${app.url}/set`, { method: 'POST', token: filler, body: { cacheName: 'c', key: 'x', value: 'eA==' } })).json().code).toBe('DISK_BUDGET_EXCEEDED');
    // Other families say the same.
    expect((await http(`${app.url}/1/projects/filler/caches/c/items/y`, { method: 'PUT', token: filler, headers: { authorization: `OAuth ${filler}` }, body: { value: 'y' } })).status).toBeGreaterThanOrEqual(400);
    // Deletions are taken: the org can make room.
    expect((await http(`${app.url}/c/k0`, { method: 'DELETE', token: filler })).status).toBeLessThan(300);
    expect((await http(`${app.url}/c/k1`, { token: filler })).status).toBe(200);
    // Another org has its own budget.
    expect((await http(`${app.url}/theirs/k`, { method: 'POST', token: other, body: value })).status).toBe(201);
    const ready = await http(`${app.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json().info.disk).toMatchObject({ status: 'up', spent: null });
  });

  it('a spent DISK_BUDGET_BYTES refuses every org\'s writes with a 4xx and /health/ready says so', async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', ORG_DISK_BUDGET_BYTES: String(3 * MiB), HISTORY_COMPACT_FACTOR: '0', DISK_BUDGET_BYTES: String(4 * MiB) } });
    const value = Buffer.alloc(MiB / 2, 3);
    for (const org of ['a', 'b']) {
      const token = tokenFor({ org });
      for (let i = 0; i < 20; i++) if ((await http(`${app.url}/c/k${i}`, { method: 'POST', token, body: value })).status !== 201) break;
    }
    const refused = await http(`${app.url}/c/k`, { method: 'POST', token: tokenFor({ org: 'c' }), body: Buffer.from('small') });
    expect(refused.status).toBe(400);
    expect(refused.json().code).toBe('DISK_BUDGET_EXCEEDED');
    expect(refused.json().message).toContain('DISK_BUDGET_BYTES');
    const ready = await http(`${app.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json().info.disk).toMatchObject({ status: 'up', spent: 'DISK_BUDGET_BYTES' });
  });
});
