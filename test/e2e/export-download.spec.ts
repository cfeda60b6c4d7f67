import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../support/cli';
import { finished, submitTask } from '../support/tasks';
import { tempDir } from '../support/temp-dir';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The file of an export task can be downloaded by the org that made it
 * (`GET /api/v1/cache/export/?task_id=`), once it succeeded: the NDJSON `cachelog import` reads.
 */
describe('downloading an export task\'s file', () => {
  let app: TestApp;
  const acme = tokenFor({ org: 'acme' });
  const other = tokenFor({ org: 'other' });
  const url = (taskId: string) => `${app.url}/api/v1/cache/export/?task_id=${taskId}`;
  beforeAll(async () => {
    app = await startTestApp();
    for (const [key, value] of [['a', 'one'], ['b', 'two'], ['a', 'three']]) {
      expect((await http(`${app.url}/c1/${key}`, { method: 'POST', token: acme, body: Buffer.from(value) })).status).toBe(201);
    }
  });
  afterAll(() => app?.dispose());

  it('answers the file of a succeeded export, which cachelog import takes into a new data directory', async () => {
    const id = await submitTask(app.url, acme, { resource_title: 'c1', action: 'export' });
    const task = await finished(app.url, acme, id);
    expect(task.task_state).toBe('SUCCESS');
    const answer = await http(url(id), { token: acme });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="export-${id}.ndjson"`);
    expect(answer.body).toEqual(readFileSync(join(app.dataDir, task.result!.file)));

    const dir = tempDir();
    try {
      const file = join(dir.path, 'download.ndjson');
      writeFileSync(file, answer.body);
      const target = join(dir.path, 'data');
      const imported = await cli(['import', '--data-dir', target, '--in', file]);
      expect(imported.stderr).toContain('imported 4 events of 1 caches');
      expect(imported.code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it('is the org\'s own: another org, an unknown id and no token are refused', async () => {
    const id = await submitTask(app.url, acme, { resource_title: 'c1', action: 'export' });
    await finished(app.url, acme, id);
    expect((await http(url(id), { token: other })).json()).toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect((await http(url(id), { token: other })).status).toBe(404);
    expect((await http(url('no-such-task'), { token: acme })).status).toBe(404);
    expect((await http(url(id))).status).toBe(401);
  });

  it('a task that is not an export is 400; an export that failed is 409; a file no longer on disk is 410', async () => {
    const snapshot = await submitTask(app.url, acme, { resource_title: 'c1', action: 'snapshot' });
    await finished(app.url, acme, snapshot);
    expect((await http(url(snapshot), { token: acme })).status).toBe(400);

    const small = await startTestApp({ env: { MAX_EXPORT_BYTES_PER_ORG: '10' } });
    try {
      expect((await http(`${small.url}/c1/a`, { method: 'POST', token: acme, body: Buffer.from('one') })).status).toBe(201);
      const failed = await submitTask(small.url, acme, { resource_title: 'c1', action: 'export' });
      expect((await finished(small.url, acme, failed)).task_state).toBe('FAILURE');
      const refused = await http(`${small.url}/api/v1/cache/export/?task_id=${failed}`, { token: acme });
      expect(refused.status).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'EXPORT_NOT_READY' });
    } finally {
      await small.dispose();
    }

    const id = await submitTask(app.url, acme, { resource_title: 'c1', action: 'export' });
    const task = await finished(app.url, acme, id);
    rmSync(join(app.dataDir, task.result!.file));
    const gone = await http(url(id), { token: acme });
    expect(gone.status).toBe(410);
    expect(gone.json()).toMatchObject({ code: 'EXPORT_GONE' });
  });
});
