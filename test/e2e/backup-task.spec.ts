import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InlineReadModels } from '../../src/journal/inline-read-models';
import { encodeEntityId, encodeOrgPrefix } from '../../src/journal/keys';
import { TaskActions } from '../../src/tasks/task-actions';
import { backupPath, orgExportDir } from '../../src/tasks/export-files';
import { cli } from '../support/cli';
import { finished, submitTask, holdTaskRuns } from '../support/tasks';
import { tempDir } from '../support/temp-dir';
import { TEST_SECRET, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * An online backup is a task: an org's carries its own caches, the operator's (a token with
 * `operator: true`) the whole instance. It reads one consistent point while the server goes on
 * writing, and its downloaded file is what `cachelog restore` takes: restored into an empty data
 * directory, a server on it answers as the original did at that point.
 */
describe('backup tasks', () => {
  const acme = tokenFor({ org: 'acme', name: 'alice' });
  const umbrella = tokenFor({ org: 'umbrella', name: 'ursula' });
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  const apps: TestApp[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  const start = async (options: Parameters<typeof startTestApp>[0] = {}) => {
    // Snapshots every 5 events, so that the seeded cache has a snapshot to compact to.
    const app = await startTestApp({ ...options, env: { SNAPSHOT_EVERY: '5', ...options.env } });
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.dispose();
    for (const d of dirs.splice(0)) d.cleanup();
  });

  const set = (url: string, token: string, cacheName: string, key: string, value: string, ttlSeconds = 0) =>
    http(`${url}/set`, { method: 'POST', token, body: { cacheName, key, value: b64(value), ttlSeconds } });
  const download = (url: string, token: string | undefined, taskId: string) => http(`${url}/api/v1/cache/backup/?task_id=${encodeURIComponent(taskId)}`, { token });

  /** Two orgs: a compacted cache, settings, a key with a TTL, a binary value, a deleted key, a finished export. */
  async function seed(url: string): Promise<void> {
    for (let i = 0; i < 12; i++) {
      expect((await set(url, acme, 'users', `u${i % 5}`, `user-${i}`)).status).toBe(201);
      expect((await set(url, umbrella, 'users', `u${i % 3}`, `theirs-${i}`)).status).toBe(201);
    }
    expect((await http(`${url}/users/u4`, { method: 'DELETE', token: acme })).status).toBeLessThan(300);
    expect((await set(url, acme, 'sessions', 's1', 'short', 3600)).status).toBe(201);
    expect((await http(`${url}/cacheName/sessions/settings`, { method: 'PUT', token: acme, body: { capacity: 100, ttl: 7200 } })).status).toBeLessThan(300);
    expect((await http(`${url}/binary/k`, { method: 'POST', token: acme, body: Buffer.from([0, 255, 1, 254]) })).status).toBe(201);
    for (let i = 0; i < 300; i++) expect((await set(url, acme, 'bulk', `k${i}`, `value-${i}`.repeat(20))).status).toBe(201);
    const compacted = await finished(url, acme, await submitTask(url, acme, { resource_title: 'users', action: 'compact', retention: 'snapshots:1' }));
    expect(compacted).toMatchObject({ task_state: 'SUCCESS' });
    expect(compacted.result!.dropped).toBeGreaterThan(0);
    expect((await finished(url, acme, await submitTask(url, acme, { resource_title: 'sessions', action: 'export' }))).task_state).toBe('SUCCESS');
    expect((await finished(url, umbrella, await submitTask(url, umbrella, { resource_title: 'users', action: 'snapshot' }))).task_state).toBe('SUCCESS');
  }

  /** What a client of one org reads of its caches, in every family the checks touch; `at` reads a cache at a past seq. */
  async function reads(url: string, token: string, org: string, at: Record<string, number> = {}) {
    const out: Record<string, unknown> = {};
    const names = (await http(`${url}/cacheName/list`, { token })).json();
    out.names = names;
    for (const { cacheName } of names) {
      const point = at[cacheName] !== undefined ? `?at=${at[cacheName]}` : '';
      const keys = (await http(`${url}/cacheName/${cacheName}/keys${point}`, { token })).json().keys;
      out[`${cacheName}:keys`] = keys;
      for (const key of keys) out[`${cacheName}:${key}`] = (await http(`${url}/${cacheName}/${key}${point}`, { token })).body.toString('base64');
      if (point !== '') continue; // the rest of a cache still being written is compared at its seq below
      out[`${cacheName}:settings`] = (await http(`${url}/cacheName/${cacheName}/settings`, { token })).json();
      const events = await http(`${url}/cacheName/${cacheName}/events?limit=1000`, { token });
      out[`${cacheName}:events`] = [events.status, events.json()];
      out[`${cacheName}:at3`] = (await http(`${url}/cacheName/${cacheName}/keys?at=3`, { token })).status;
      out[`${cacheName}:iron`] = (await http(`${url}/1/projects/${org}/caches/${cacheName}`, { headers: { authorization: `OAuth ${token}` } })).json();
    }
    return out;
  }

  /** Every event of a cache, page by page. */
  async function allEvents(url: string, token: string, cacheName: string): Promise<Array<{ seq: number }>> {
    const out: Array<{ seq: number }> = [];
    for (let from = 1; ; ) {
      const page = (await http(`${url}/cacheName/${cacheName}/events?from=${from}&limit=1000`, { token })).json();
      out.push(...page.events);
      if (!page.hasMore) return out;
      from = page.next;
    }
  }

  /** A data directory with a generated DATA_DIR/jwt-secret (a first start without JWT_SECRET), then served with the test secret. */
  async function withSecretFile(): Promise<string> {
    const dataDir = dir();
    await (await startTestApp({ dataDir, env: { JWT_SECRET: '' } })).close();
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(true);
    return dataDir;
  }

  /** The cache listing of the task API, one row per cache. */
  const listing = async (url: string, token: string) => (await http(`${url}/api/v1/cache/`, { token })).json() as Array<{ resource_title: string; version: number }>;

  it("an org's backup taken while writes go on restores, with the CLI, into a server that answers as the original did at that point", async () => {
    const app = await start({ dataDir: await withSecretFile() });
    await seed(app.url);
    const exportTask = await submitTask(app.url, acme, { resource_title: 'binary', action: 'export' });
    expect((await finished(app.url, acme, exportTask)).task_state).toBe('SUCCESS');
    const stable = await reads(app.url, acme, 'acme');
    const busySeqBefore = { value: 0 };

    // Writers keep going in both orgs from before the backup until after its file is downloaded.
    let writing = true;
    let written = 0;
    const writer = async (token: string, cacheName: string) => {
      for (let i = 0; writing; i++) {
        expect((await set(app.url, token, cacheName, `w${i % 40}`, `write-${i}`)).status).toBe(201);
        written++;
      }
    };
    const writers = [writer(acme, 'busy'), writer(umbrella, 'busy')];
    while (written < 20) await new Promise((resolve) => setTimeout(resolve, 5));
    busySeqBefore.value = (await listing(app.url, acme)).find((row) => row.resource_title === 'busy')!.version;

    const id = await submitTask(app.url, acme, { action: 'backup' });
    const writtenAtSubmit = written;
    const task = await finished(app.url, acme, id);
    expect(task).toMatchObject({ task_state: 'SUCCESS', action: 'backup', resource_title: '' });
    expect(task.result).toMatchObject({ scope: 'org', file: backupPath('acme', 'org', id).file });
    const answer = await download(app.url, acme, id);
    expect(written).toBeGreaterThan(writtenAtSubmit); // the server went on taking writes meanwhile
    // A few more once the file is there: the original certainly moved past the backup's point.
    const writtenAtDownload = written;
    while (written < writtenAtDownload + 4) await new Promise((resolve) => setTimeout(resolve, 5));
    writing = false;
    await Promise.all(writers);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="cachelog-${id}.backup"`);
    expect(answer.body).toEqual(readFileSync(join(app.dataDir, task.result!.file)));
    expect(answer.body.length).toBe(task.result!.bytes);
    // None of the other org's data: no key, value, name or task of umbrella anywhere in the file.
    expect(answer.body.includes(Buffer.from('umbrella'))).toBe(false);
    expect(answer.body.includes(Buffer.from('theirs-'))).toBe(false);

    const file = join(dir(), 'acme.backup');
    writeFileSync(file, answer.body);
    const target = join(dir(), 'restored');
    const restored = await cli(['restore', '--data-dir', target, '--in', file]);
    expect(restored.stderr).toMatch(/^restored \d+ database entries and 2 files into /m); // acme's two export files, no secret
    expect(restored.code).toBe(0);
    expect(existsSync(join(target, 'jwt-secret'))).toBe(false);
    const verified = await cli(['verify', '--data-dir', target]);
    expect(verified.stdout).toMatch(/^OK: 5 caches, /m);

    const copy = await start({ dataDir: target });
    // The busy cache came back at one seq between the submission and the end of the writes.
    const copyRows = await listing(copy.url, acme);
    const busyAt = copyRows.find((row) => row.resource_title === 'busy')!.version;
    const original = await listing(app.url, acme);
    expect(busyAt).toBeGreaterThanOrEqual(busySeqBefore.value);
    expect(busyAt).toBeLessThan(original.find((row) => row.resource_title === 'busy')!.version);
    // Every other row of the listing is the same; busy's is the original's at that seq.
    expect(copyRows.filter((row) => row.resource_title !== 'busy')).toEqual(original.filter((row) => row.resource_title !== 'busy'));
    expect(await allEvents(copy.url, acme, 'busy')).toEqual((await allEvents(app.url, acme, 'busy')).filter((event) => event.seq <= busyAt));

    // The stable caches answer the same in every family; the busy one as the original at its seq.
    const copyReads = await reads(copy.url, acme, 'acme', { busy: busyAt });
    const originalReads = await reads(app.url, acme, 'acme', { busy: busyAt });
    expect(copyReads).toEqual(originalReads);
    for (const [name, value] of Object.entries(stable)) if (name !== 'names') expect(copyReads[name]).toEqual(value);
    // Task records of the org came with it (the export, and its file); backups never do.
    expect((await http(`${copy.url}/api/v1/cache/state/?task_id=${exportTask}`, { token: acme })).json()).toEqual((await http(`${app.url}/api/v1/cache/state/?task_id=${exportTask}`, { token: acme })).json());
    expect((await http(`${copy.url}/api/v1/cache/export/?task_id=${exportTask}`, { token: acme })).body).toEqual((await http(`${app.url}/api/v1/cache/export/?task_id=${exportTask}`, { token: acme })).body);
    expect((await http(`${copy.url}/api/v1/cache/state/?task_id=${id}`, { token: acme })).status).toBe(404);
    // The inline read-model rows (key listing, expiry index, names) of the caches written no more are
    // the original's, byte for byte; every row there is acme's.
    const acmeHex = encodeOrgPrefix('acme').toString('hex');
    const busyHex = encodeEntityId({ org: 'acme', name: 'busy' }).toString('hex');
    const settled = (rows: string[]) => rows.filter((row) => row.includes(acmeHex) && !row.includes(busyHex) && !row.startsWith('org-bytes:'));
    const copyRows2 = await copy.app.get(InlineReadModels).dump();
    expect(copyRows2.every((row) => row.includes(acmeHex))).toBe(true);
    expect(copyRows2.some((row) => row.startsWith('expiry:'))).toBe(true); // sessions' s1 has a TTL
    expect(settled(copyRows2)).toEqual(settled(await app.app.get(InlineReadModels).dump()));
    // The other org has nothing there.
    expect((await http(`${copy.url}/cacheName/list`, { token: umbrella })).json()).toStrictEqual([]);
    expect(await listing(copy.url, umbrella)).toStrictEqual([]);
    // Writes go on from where the backup stopped.
    expect((await set(copy.url, acme, 'users', 'u9', 'new')).status).toBe(201);
  }, 180_000);

  it("the operator's backup carries the whole instance; only operator tokens take, follow or download it", async () => {
    const app = await start({ dataDir: await withSecretFile() });
    await seed(app.url);
    const refused = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: acme, body: { action: 'backup', scope: 'instance' } });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('operator') });
    const forged = tokenFor({ org: 'ops', operator: true }, { secret: 'another-secret-of-at-least-32-bytes!!' });
    expect((await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: forged, body: { action: 'backup', scope: 'instance' } })).status).toBe(401);

    // The token command mints the operator's token (--operator: the claim operator: true).
    const minted = await cli(['token', '--data-dir', app.dataDir, '--org', 'ops', '--name', 'olga', '--operator'], { JWT_SECRET: TEST_SECRET });
    expect(minted.code).toBe(0);
    const operator = minted.stdout.trim();
    const before = { acme: await reads(app.url, acme, 'acme'), umbrella: await reads(app.url, umbrella, 'umbrella'), acmeRows: await listing(app.url, acme), umbrellaRows: await listing(app.url, umbrella) };
    const id = await submitTask(app.url, operator, { action: 'backup', scope: 'instance' });
    const task = await finished(app.url, operator, id);
    expect(task).toMatchObject({ task_state: 'SUCCESS', result: { scope: 'instance', file: backupPath('ops', 'instance', id).file } });
    // Not an org's: a token of the operator's own org without the claim sees nothing either.
    for (const token of [acme, umbrella, tokenFor({ org: 'ops', name: 'olga' })]) {
      expect((await http(`${app.url}/api/v1/cache/state/?task_id=${id}`, { token })).status).toBe(404);
      expect((await download(app.url, token, id)).status).toBe(404);
    }
    const answer = await download(app.url, operator, id);
    expect(answer.status).toBe(200);

    const file = join(dir(), 'instance.backup');
    writeFileSync(file, answer.body);
    const target = join(dir(), 'restored');
    expect((await cli(['restore', '--data-dir', target, '--in', file])).code).toBe(0);
    expect((await cli(['verify', '--data-dir', target])).stdout).toMatch(/^OK: 5 caches, /m);
    // The instance's generated secret comes with it (an org's backup never has it).
    expect(readFileSync(join(target, 'jwt-secret'))).toEqual(readFileSync(join(app.dataDir, 'jwt-secret')));
    // No backup file went into the backup.
    expect(readdirSync(join(target, 'exports')).sort()).toEqual([orgExportDir('acme').split('/')[1]]);
    const copy = await start({ dataDir: target });
    expect({ acme: await reads(copy.url, acme, 'acme'), umbrella: await reads(copy.url, umbrella, 'umbrella'), acmeRows: await listing(copy.url, acme), umbrellaRows: await listing(copy.url, umbrella) }).toEqual(before);
    expect(await copy.app.get(InlineReadModels).dump()).toEqual(await app.app.get(InlineReadModels).dump());
  }, 180_000);

  it('org walls, bad ids and unready or missing files each get a clear answer', async () => {
    const app = await start();
    await seed(app.url);
    const id = await submitTask(app.url, acme, { action: 'backup' });
    expect((await finished(app.url, acme, id)).task_state).toBe('SUCCESS');

    const theirs = await download(app.url, umbrella, id);
    expect(theirs.status).toBe(404);
    expect(theirs.json()).toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect((await http(`${app.url}/api/v1/cache/state/?task_id=${id}`, { token: umbrella })).status).toBe(404);
    expect((await download(app.url, undefined, id)).status).toBe(401);

    const unknown = await download(app.url, acme, 'no-such-task');
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ code: 'TASK_NOT_FOUND', message: 'no task "no-such-task" in your org' });
    const empty = await http(`${app.url}/api/v1/cache/backup/?task_id=`, { token: acme });
    expect(empty.status).toBe(400);
    expect(empty.json().message).toContain('task_id');
    expect((await http(`${app.url}/api/v1/cache/backup/`, { token: acme })).status).toBe(400);
    expect((await download(app.url, acme, 'x'.repeat(65))).status).toBe(400);

    const snapshot = await submitTask(app.url, acme, { resource_title: 'users', action: 'snapshot' });
    await finished(app.url, acme, snapshot);
    const notBackup = await download(app.url, acme, snapshot);
    expect(notBackup.status).toBe(400);
    expect(notBackup.json().message).toContain('not a backup');
    // A backup id is not an export either.
    expect((await http(`${app.url}/api/v1/cache/export/?task_id=${id}`, { token: acme })).status).toBe(400);

    // The request: a backup names no cache, every other action one; only a backup has a scope.
    const bad = async (body: Record<string, unknown>) => (await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: acme, body })).json();
    expect(await bad({ action: 'backup', resource_title: 'users' })).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('resource_title') });
    expect(await bad({ action: 'snapshot' })).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('resource_title') });
    expect(await bad({ action: 'snapshot', resource_title: 'users', scope: 'org' })).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('scope') });
    expect(await bad({ action: 'backup', scope: 'everything' })).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('scope') });

    // A file gone from the disk (pruned) is 410.
    const { file } = backupPath('acme', 'org', id);
    const bytes = readFileSync(join(app.dataDir, file));
    await import('node:fs/promises').then((fs) => fs.rm(join(app.dataDir, file)));
    expect((await download(app.url, acme, id)).json()).toMatchObject({ code: 'EXPORT_GONE' });
    expect(bytes.length).toBeGreaterThan(0);
  }, 120_000);

  it('a backup cut short by a stop leaves only a .partial file, removed at the next start, never downloadable', async () => {
    const dataDir = dir();
    let app = await start({ dataDir });
    await seed(app.url);
    await app.close();
    // What a process killed in the middle of a backup leaves: the partial file (the task is failed at the start).
    const partial = join(dataDir, backupPath('acme', 'org', 'crashed').file) + '.partial';
    const instancePartial = join(dataDir, backupPath('ops', 'instance', 'crashed').file) + '.partial';
    for (const path of [partial, instancePartial]) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, Buffer.alloc(1000, 1));
    }
    app = await start({ dataDir });
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(instancePartial)).toBe(false);
    // And a backup that fails (over the org's bytes on disk) leaves no file at all.
    await app.close();
    app = await start({ dataDir, env: { MAX_EXPORT_BYTES_PER_ORG: '2000' } });
    const id = await submitTask(app.url, acme, { action: 'backup' });
    const failed = await finished(app.url, acme, id);
    expect(failed).toMatchObject({ task_state: 'FAILURE', reason: expect.stringContaining('EXPORT_LIMIT_EXCEEDED') });
    expect(readdirSync(join(dataDir, orgExportDir('acme'))).filter((name) => name.includes(id))).toStrictEqual([]);
    expect((await download(app.url, acme, id)).json()).toMatchObject({ code: 'EXPORT_NOT_READY' });
  }, 120_000);

  it("counts against the org's pending task work: 1 + journal bytes / 2 MiB", async () => {
    const app = await start({ env: { JOURNAL_SYNC: 'none', MAX_PENDING_TASK_WORK_PER_ORG: '3' } });
    const big = 'x'.repeat(700_000);
    for (let i = 0; i < 4; i++) expect((await set(app.url, acme, 'big', `k${i}`, big)).status).toBe(201);
    expect((await set(app.url, umbrella, 'small', 'k', 'v')).status).toBe(201);
    const actions = app.app.get(TaskActions);
    expect(await actions.weighRequest({ org: 'acme', cacheName: '', action: 'backup', params: {}, by: 'a', device: null })).toBe(2);
    expect(await actions.weighRequest({ org: 'umbrella', cacheName: '', action: 'backup', params: {}, by: 'u', device: null })).toBe(1);
    expect(await actions.weighRequest({ org: 'umbrella', cacheName: '', action: 'backup', params: { scope: 'instance' }, by: 'u', device: null })).toBe(2);
    // Tasks stay pending until the test lets them run.
    const { release, restore } = holdTaskRuns(actions);
    try {
      const first = await submitTask(app.url, acme, { resource_title: 'big', action: 'snapshot' }); // 1
      const second = await submitTask(app.url, acme, { action: 'backup' }); // 2: 3 in all
      const refused = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: acme, body: { action: 'backup' } });
      expect(refused.status).toBe(429);
      expect(refused.json()).toMatchObject({ code: 'TOO_MANY_TASKS', message: expect.stringContaining('MAX_PENDING_TASK_WORK_PER_ORG') });
      const theirs = await submitTask(app.url, umbrella, { action: 'backup' });
      release();
      for (const id of [first, second]) expect((await finished(app.url, acme, id)).task_state).toBe('SUCCESS');
      expect((await finished(app.url, umbrella, theirs)).task_state).toBe('SUCCESS');
    } finally {
      restore();
    }
  }, 120_000);
});
