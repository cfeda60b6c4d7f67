import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../support/cli';
import { ManualClock } from '../support/manual-clock';
import { finished, submitTask } from '../support/tasks';
import { tempDir } from '../support/temp-dir';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * `cachelog backup` and `restore` carry a whole stopped data directory: a compacted cache (which
 * an export cannot carry: its events before the mark are gone) comes back equal, with its
 * settings, its history, the task records and the generated secret, and every API answers the
 * same. A damaged file restores nothing.
 */
describe('cachelog backup and restore', () => {
  const clock = new ManualClock();
  const acme = tokenFor({ org: 'acme', name: 'alice' });
  const umbrella = tokenFor({ org: 'umbrella', name: 'ursula' });
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  let app: TestApp | undefined;
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const d of dirs.splice(0)) d.cleanup();
  });

  /** History in two orgs, settings, a compacted cache, finished tasks; returns the task ids. */
  async function seed(dataDir: string): Promise<string[]> {
    // A first start without JWT_SECRET leaves the generated DATA_DIR/jwt-secret (the rest signs with the test secret).
    await (await startTestApp({ dataDir, clock, env: { JWT_SECRET: '' } })).close();
    app = await startTestApp({ dataDir, clock, env: { SNAPSHOT_EVERY: '5' } });
    const url = app.url;
    const set = (token: string, cacheName: string, key: string, value: string, ttlSeconds = 0) =>
      http(`${url}/set`, { method: 'POST', token, body: { cacheName, key, value: b64(value), ttlSeconds } });
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      expect((await set(acme, 'users', `u${i % 5}`, `user-${i}`)).status).toBe(201);
      expect((await set(umbrella, 'users', `u${i % 3}`, `theirs-${i}`)).status).toBe(201);
    }
    await set(acme, 'sessions', 's1', 'short', 3600);
    await http(`${url}/cacheName/sessions/settings`, { method: 'PUT', token: acme, body: { capacity: 100, ttl: 7200 } });
    await http(`${url}/binary/k`, { method: 'POST', token: acme, body: Buffer.from([0, 255, 1, 254]) });
    const tasks = [
      await submitTask(url, acme, { resource_title: 'users', action: 'compact', retention: 'snapshots:1' }),
      await submitTask(url, umbrella, { resource_title: 'users', action: 'snapshot' }),
    ];
    for (const [i, id] of tasks.entries()) expect((await finished(url, i === 0 ? acme : umbrella, id)).task_state).toBe('SUCCESS');
    await app.close();
    app = undefined;
    return tasks;
  }

  /** What clients can read of both orgs (the token of each org, the same secret on both sides). */
  async function reads(url: string, tasks: string[]) {
    const out: Record<string, unknown> = {};
    for (const [who, token] of [['acme', acme], ['umbrella', umbrella]] as const) {
      const names = (await http(`${url}/cacheName/list`, { token })).json();
      out[`${who}:names`] = names;
      for (const { cacheName } of names) {
        const keys = (await http(`${url}/cacheName/${cacheName}/keys`, { token })).json().keys;
        out[`${who}:${cacheName}:keys`] = keys;
        for (const key of keys) out[`${who}:${cacheName}:${key}`] = (await http(`${url}/${cacheName}/${key}`, { token })).body.toString('base64');
        out[`${who}:${cacheName}:settings`] = (await http(`${url}/cacheName/${cacheName}/settings`, { token })).json();
        const events = await http(`${url}/cacheName/${cacheName}/events?limit=1000`, { token });
        out[`${who}:${cacheName}:events`] = [events.status, events.json()];
        out[`${who}:${cacheName}:at3`] = (await http(`${url}/cacheName/${cacheName}/keys?at=3`, { token })).status;
        out[`${who}:${cacheName}:iron`] = (await http(`${url}/1/projects/${who}/caches/${cacheName}`, { headers: { authorization: `OAuth ${token}` } })).json();
      }
      out[`${who}:listing`] = (await http(`${url}/api/v1/cache/`, { token })).json();
    }
    out.tasks = [(await http(`${url}/api/v1/cache/state/?task_id=${tasks[0]}`, { token: acme })).json(), (await http(`${url}/api/v1/cache/state/?task_id=${tasks[1]}`, { token: umbrella })).json()];
    return out;
  }

  it('an export of a whole instance with a compacted cache warns, and its import refuses (why backup exists)', async () => {
    const source = dir();
    await seed(source);
    const file = join(dir(), 'all.ndjson');
    const exported = await cli(['export', '--data-dir', source, '--out', file]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('warning: 1 cache(s) were compacted ("acme"/"users" through seq');
    expect(exported.stderr).toContain('use cachelog backup');
    const imported = await cli(['import', '--data-dir', join(dir(), 'copy'), '--in', file]);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toMatch(/"acme","users".* has seq \d+ where \d+ was expected; nothing imported/);
  });

  it('restores a backup into a new directory: the same reads in every API, the same secret, verify OK', async () => {
    const source = dir();
    const tasks = await seed(source);
    app = await startTestApp({ dataDir: source, clock });
    const before = await reads(app.url, tasks);
    await app.close();
    app = undefined;

    const file = join(dir(), 'instance.backup');
    const backedUp = await cli(['backup', '--data-dir', source, '--out', file]);
    expect(backedUp).toMatchObject({ code: 0, stdout: '' });
    expect(backedUp.stderr).toMatch(/^backed up \d+ database entries and \d+ files of /m);
    expect((await cli(['backup', '--data-dir', source, '--out', file])).stderr).toContain('already exists');

    const target = join(dir(), 'restored');
    const restored = await cli(['restore', '--data-dir', target, '--in', file]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toMatch(/^restored \d+ database entries and \d+ files into /m);
    expect(readFileSync(join(target, 'jwt-secret'))).toEqual(readFileSync(join(source, 'jwt-secret')));
    expect(statSync(join(target, 'jwt-secret')).mode & 0o777).toBe(0o600);
    const verified = await cli(['verify', '--data-dir', target]);
    expect(verified.stdout).toMatch(/^OK: 4 caches, /m);

    app = await startTestApp({ dataDir: target, clock });
    expect(await reads(app.url, tasks)).toEqual(before);
    // Writes go on from where the source stopped.
    expect((await http(`${app.url}/users/u9`, { method: 'POST', token: acme, body: Buffer.from('new') })).status).toBe(201);
  });

  it('refuses a damaged file and a directory that is not empty, writing nothing', async () => {
    const source = dir();
    await seed(source);
    const file = join(dir(), 'instance.backup');
    expect((await cli(['backup', '--data-dir', source, '--out', file])).code).toBe(0);

    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const damaged = join(dir(), 'damaged.backup');
    writeFileSync(damaged, bytes);
    const target = join(dir(), 'never');
    const refused = await cli(['restore', '--data-dir', target, '--in', damaged]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/damaged|ends inside|unknown record/);
    expect(refused.stderr).toContain('nothing restored');
    expect(existsSync(target)).toBe(false);

    const truncated = join(dir(), 'truncated.backup');
    writeFileSync(truncated, readFileSync(file).subarray(0, 1000));
    expect((await cli(['restore', '--data-dir', target, '--in', truncated])).stderr).toContain('nothing restored');
    expect(existsSync(target)).toBe(false);

    expect((await cli(['restore', '--data-dir', source, '--in', file])).stderr).toContain('is not empty');
    const foreign = join(dir(), 'foreign');
    writeFileSync(foreign, 'not a backup');
    expect((await cli(['restore', '--data-dir', target, '--in', foreign])).stderr).toContain('not a cachelog backup');
    expect((await cli(['backup', '--data-dir', join(dir(), 'missing'), '--out', join(dir(), 'b')])).stderr).toContain('does not exist');
    expect(existsSync(target)).toBe(false);
  });
});
