import { setTimeout as sleep } from 'node:timers/promises';
import { JournalBackend } from '../../src/journal/journal-backend';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { TaskActions } from '../../src/tasks/task-actions';
import { finished, submitTask, holdTaskRuns } from '../support/tasks';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Event-loop time: a tenant's `rebuild` task held the journal's exclusive lock while it read
 * its cache's rows (4.5 s of every org's writes per run on a big cache). Now the rows are read
 * and compared without the lock, which is held only to write the corrections. And an org's
 * pending tasks are counted in work (MAX_PENDING_TASK_WORK_PER_ORG), not only in number: a task
 * on a cache of many events weighs more than one on a small cache.
 */
describe('budget: rebuild without other orgs waiting, task work per org', () => {
  let app: TestApp;
  const acme = tokenFor({ org: 'acme' });
  const umbrella = tokenFor({ org: 'umbrella' });
  afterEach(() => app?.dispose());

  const fill = async (token: string, cacheName: string, keys: number) => {
    for (let from = 0; from < keys; from += 10_000) {
      const cacheRequests = Array.from({ length: Math.min(10_000, keys - from) }, (_, i) => ({ cacheName, key: `k${from + i}`, value: 'dg==' }));
      expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests } })).status).toBe(200);
    }
  };

  it("another org's writes are written while a rebuild reads its cache's rows, and the rebuild then answers", async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } });
    await fill(acme, 'mine', 2_000);
    // The first read of a cache's key rows after this waits for the test: a rebuild's read.
    const listing = (app.app.get(JournalBackend) as LevelDbBackend).storage.listing;
    const iterator = listing.iterator.bind(listing);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const reading = new Promise<void>((resolve) => (entered = resolve));
    let armed = true;
    (listing as any).iterator = (options: any) => {
      const inner = iterator(options);
      if (!armed) return inner;
      armed = false;
      return {
        async *[Symbol.asyncIterator]() {
          entered();
          await gate;
          yield* inner;
        },
      };
    };
    try {
      const rebuild = submitTask(app.url, acme, { resource_title: 'mine', action: 'rebuild' }).then((id) => finished(app.url, acme, id));
      await reading;
      // Before: the read ran under the journal's exclusive lock, and this write waited for it.
      const write = http(`${app.url}/theirs/k`, { method: 'POST', token: umbrella, body: Buffer.from('v') });
      const first = await Promise.race([write.then(() => 'written'), sleep(20_000, undefined, { ref: false }).then(() => 'held by the rebuild')]);
      expect(first).toBe('written');
      expect((await write).status).toBe(201);
      release();
      expect(await rebuild).toMatchObject({ task_state: 'SUCCESS', result: { equal: true, keys: 2_000 } });
      expect((await http(`${app.url}/theirs/k`, { token: umbrella })).text).toBe('v');
    } finally {
      release();
      (listing as any).iterator = iterator;
    }
  });

  it('a write to the cache itself while its rows are read makes the rebuild read them again, and the answer is exact', async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none' } });
    await fill(acme, 'mine', 500);
    const listing = (app.app.get(JournalBackend) as LevelDbBackend).storage.listing;
    const iterator = listing.iterator.bind(listing);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const reading = new Promise<void>((resolve) => (entered = resolve));
    let armed = true;
    (listing as any).iterator = (options: any) => {
      const inner = iterator(options);
      if (!armed) return inner;
      armed = false;
      return {
        async *[Symbol.asyncIterator]() {
          entered();
          await gate;
          yield* inner;
        },
      };
    };
    try {
      const rebuild = submitTask(app.url, acme, { resource_title: 'mine', action: 'rebuild' }).then((id) => finished(app.url, acme, id));
      await reading;
      expect((await http(`${app.url}/mine/late`, { method: 'POST', token: acme, body: Buffer.from('v') })).status).toBe(201);
      release();
      expect(await rebuild).toMatchObject({ task_state: 'SUCCESS', result: { equal: true, keys: 501 } });
    } finally {
      release();
      (listing as any).iterator = iterator;
    }
  });

  it('counts pending tasks in work: a task on a cache of 20,000 events weighs 3, one on a small cache 1', async () => {
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', MAX_PENDING_TASK_WORK_PER_ORG: '5' } });
    await fill(acme, 'big', 20_000); // Created + 20,000 sets
    await fill(acme, 'small', 3);
    await fill(umbrella, 'theirs', 3);
    const actions = app.app.get(TaskActions);
    expect(await actions.weigh({ org: 'acme', name: 'big' })).toBe(3);
    expect(await actions.weigh({ org: 'acme', name: 'small' })).toBe(1);
    // Tasks stay pending until the test lets them run.
    const { release, restore } = holdTaskRuns(actions);
    try {
      const big = await submitTask(app.url, acme, { resource_title: 'big', action: 'rebuild' }); // 3
      const smalls = [await submitTask(app.url, acme, { resource_title: 'small', action: 'snapshot' }), await submitTask(app.url, acme, { resource_title: 'small', action: 'snapshot' })]; // 5
      const refused = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: acme, body: { resource_title: 'small', action: 'snapshot' } });
      expect(refused.status).toBe(429);
      expect(refused.json().code).toBe('TOO_MANY_TASKS');
      expect(refused.json().message).toContain('MAX_PENDING_TASK_WORK_PER_ORG');
      const heavy = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: acme, body: { resource_title: 'big', action: 'export' } });
      expect(heavy.status).toBe(429);
      // Another org's budget is its own.
      const theirs = await submitTask(app.url, umbrella, { resource_title: 'theirs', action: 'snapshot' });
      release();
      for (const id of [big, ...smalls]) expect((await finished(app.url, acme, id)).task_state).toBe('SUCCESS');
      expect((await finished(app.url, umbrella, theirs)).task_state).toBe('SUCCESS');
      // Done: the budget is free again, and one task heavier than all of it runs alone.
      const alone = await submitTask(app.url, acme, { resource_title: 'big', action: 'export' });
      expect((await finished(app.url, acme, alone)).task_state).toBe('SUCCESS');
    } finally {
      restore();
    }
  }, 120_000);
});
