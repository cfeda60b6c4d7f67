import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Storage } from '../../src/journal/leveldb/storage';
import { encodeEntityId, withSeq } from '../../src/journal/keys';
import { cli } from '../support/cli';
import { ndjsonExport } from '../support/ndjson';
import { ManualClock } from '../support/manual-clock';
import { finished, submitTask } from '../support/tasks';
import { tempDir } from '../support/temp-dir';
import { TEST_SECRET, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the cachelog command line', () => {
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

  /** Writes some history in two orgs, then closes the app. */
  async function seed(dataDir: string): Promise<void> {
    app = await startTestApp({ dataDir, clock, env: { SNAPSHOT_EVERY: '5' } });
    const url = app.url;
    const set = (token: string, cacheName: string, key: string, value: string, ttlSeconds = 0) =>
      http(`${url}/set`, { method: 'POST', token, body: { cacheName, key, value: b64(value), ttlSeconds }, headers: { 'x-device-id': 'dev-1' } });
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      await set(acme, 'users', `u${i % 5}`, `user-${i}`);
      await set(umbrella, 'users', `u${i % 3}`, `theirs-${i}`);
    }
    await set(acme, 'sessions', 's1', 'short', 3600);
    await set(acme, 'sessions', 's2', 'bytes');
    await http(`${url}/users/u1`, { method: 'DELETE', token: acme });
    await http(`${url}/cacheName/sessions/flush`, { method: 'PUT', token: acme });
    await set(acme, 'sessions', 's3', 'after flush', 7200);
    await http(`${url}/binary/k`, { method: 'POST', token: acme, body: Buffer.from([0, 255, 1, 254]) });
    await http(`${url}/cacheName`, { method: 'POST', token: acme, body: { cacheName: 'empty', description: 'nothing here' } });
    await app.close();
    app = undefined;
  }

  /** Everything a client can read of both orgs. */
  async function reads(url: string) {
    const out: Record<string, unknown> = {};
    for (const token of [acme, umbrella]) {
      const names = (await http(`${url}/cacheName/list`, { token })).json();
      out[`names:${token === acme}`] = names;
      for (const { cacheName } of names) {
        const keys = (await http(`${url}/cacheName/${cacheName}/keys`, { token })).json().keys;
        out[`keys:${cacheName}:${token === acme}`] = keys;
        for (const key of keys) out[`value:${cacheName}:${key}:${token === acme}`] = (await http(`${url}/${cacheName}/${key}`, { token })).body.toString('base64');
        const events = (await http(`${url}/cacheName/${cacheName}/events?limit=1000`, { token })).json().events;
        out[`events:${cacheName}:${token === acme}`] = events.map(({ offset: _offset, ...event }: { offset: number }) => event);
      }
      out[`list:${token === acme}`] = (await http(`${url}/api/v1/cache/`, { token })).json();
    }
    return out;
  }

  it('exports a data directory and imports it into a fresh one with identical reads', async () => {
    const source = dir();
    await seed(source);
    const file = join(dir(), 'all.ndjson');
    const exported = await cli(['export', '--data-dir', source, '--out', file]);
    expect(exported).toMatchObject({ code: 0, stderr: expect.stringContaining('exported') });
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThan(30);

    const target = dir();
    const imported = await cli(['import', '--data-dir', target, '--in', file]);
    expect(imported.stderr).toContain('imported');
    expect(imported.code).toBe(0);

    app = await startTestApp({ dataDir: source, clock });
    const before = await reads(app.url);
    await app.close();
    app = await startTestApp({ dataDir: target, clock });
    const after = await reads(app.url);
    expect(after).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThan(15);
  });

  it('refuses an import with a sequence gap, and an import into a used data directory, importing nothing', async () => {
    const lines = [
      { org: 'o', cacheName: 'c', seq: 1, type: 'Created', at: 1, by: 'x', device: null, description: '' },
      { org: 'o', cacheName: 'c', seq: 2, type: 'Set', at: 2, by: 'x', device: null, key: 'k', value: b64('v'), expiresAt: 0 },
      { org: 'o', cacheName: 'c', seq: 4, type: 'Set', at: 3, by: 'x', device: null, key: 'k', value: b64('w'), expiresAt: 0 },
    ];
    const file = join(dir(), 'gap.ndjson');
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const target = dir();
    const result = await cli(['import', '--data-dir', target, '--in', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 3');
    expect(result.stderr).toContain('seq 4 where 3 was expected');
    // Nothing imported: not even a database was started in the target.
    expect(readdirSync(target)).toStrictEqual([]);

    const bad = join(dir(), 'bad.ndjson');
    writeFileSync(bad, JSON.stringify({ ...lines[1], seq: 1, value: 'not base64!' }) + '\n');
    expect((await cli(['import', '--data-dir', dir(), '--in', bad])).stderr).toContain('line 1: value');

    const used = dir();
    await seed(used);
    writeFileSync(file, ndjsonExport(lines.slice(0, 2)));
    const refused = await cli(['import', '--data-dir', used, '--in', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('fresh data directory');
  });

  it('verifies a healthy journal (compacted or not) and finds a corrupted record and a gap', async () => {
    const dataDir = dir();
    await seed(dataDir);
    const healthy = await cli(['verify', '--data-dir', dataDir]);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^OK: 5 caches, \d+ events, [1-9]\d* snapshots, 0 problems/m);

    app = await startTestApp({ dataDir, clock });
    const compacted = await finished(app.url, acme, await submitTask(app.url, acme, { resource_title: 'users', action: 'compact', retention: 'snapshots:1' }));
    expect(compacted.result!.dropped).toBeGreaterThan(0);
    await app.close();
    app = undefined;
    const afterCompaction = await cli(['verify', '--data-dir', dataDir]);
    expect(afterCompaction.stdout).toMatch(/^OK: /m);
    expect(afterCompaction.code).toBe(0);

    const storage = new Storage(dataDir);
    await storage.open();
    const users = encodeEntityId({ org: 'umbrella', name: 'users' });
    await storage.journal.put(withSeq(users, 3), Buffer.from([0xc1, 0xff, 0x00, 0x13]));
    await storage.journal.del(withSeq(encodeEntityId({ org: 'acme', name: 'sessions' }), 2));
    const snapshot = await storage.snapshots.get(withSeq(users, 5)) ?? (await storage.snapshots.values({ limit: 1 }).all())[0];
    await storage.snapshots.put(withSeq(encodeEntityId({ org: 'ghost', name: 'town' }), 5), snapshot!);
    await storage.close();

    const broken = await cli(['verify', '--data-dir', dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('PROBLEM "umbrella"/"users": record seq 3 is undecodable');
    expect(broken.stdout).toContain('PROBLEM "acme"/"sessions": sequence gap: seq 1 is followed by seq 3');
    expect(broken.stdout).toContain('PROBLEM "ghost"/"town": a snapshot at seq 5 but no journal');
    expect(broken.stdout).toMatch(/^FAILED: .* 3 problems$/m);
  });

  it('replays a cache to a sequence number or a time, like a point-in-time read', async () => {
    const dataDir = dir();
    await seed(dataDir);
    app = await startTestApp({ dataDir, clock });
    const keysAt7 = (await http(`${app.url}/cacheName/users/keys?at=7`, { token: acme })).json().keys;
    const eventsPage = (await http(`${app.url}/cacheName/users/events?from=4&limit=1`, { token: acme })).json();
    await app.close();
    app = undefined;

    const bySeq = await cli(['replay', '--data-dir', dataDir, '--org', 'acme', '--cache', 'users', '--to', '7']);
    expect(bySeq.code).toBe(0);
    const state = JSON.parse(bySeq.stdout);
    expect(state).toMatchObject({ org: 'acme', cacheName: 'users', seq: 7, status: 'live' });
    expect(state.entries.map((e: { key: string }) => e.key).sort()).toEqual(keysAt7);
    expect(state.entries.find((e: { key: string }) => e.key === 'u0').value).toBe(b64('user-5'));

    const byTime = JSON.parse((await cli(['replay', '--data-dir', dataDir, '--org', 'acme', '--cache', 'users', '--to', eventsPage.events[0].time])).stdout);
    expect(byTime.seq).toBe(4);
    expect((await cli(['replay', '--data-dir', dataDir, '--org', 'acme', '--cache', 'users', '--to', 'soon'])).code).toBe(2);
    expect((await cli(['replay', '--data-dir', dataDir, '--org', 'nobody', '--cache', 'users'])).code).toBe(1);
  });

  it('mints tokens the server accepts, and explains usage errors', async () => {
    app = await startTestApp({ clock });
    const minted = await cli(['token', '--org', 'acme', '--name', 'ops'], { JWT_SECRET: TEST_SECRET });
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect((await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'c', key: 'k', value: b64('v') } })).status).toBe(201);
    const events = (await http(`${app.url}/cacheName/c/events`, { token })).json().events;
    expect(events[1].by).toBe('ops');
    expect((await http(`${app.url}/c/k`, { token: (await cli(['token', '--org', 'acme', '--name', 'x'], { JWT_SECRET: 'another-secret-of-32-bytes-or-more!!' })).stdout.trim() })).status).toBe(401);

    const ownSecret = dir();
    const fromFile = await cli(['token', '--org', 'acme', '--name', 'ops', '--data-dir', ownSecret]);
    expect(fromFile.stderr).toContain(join(ownSecret, 'jwt-secret'));
    expect((await cli(['token', '--org', 'acme'])).code).toBe(2);
    expect((await cli(['frobnicate'])).stderr).toContain('unknown command');
  });
});
