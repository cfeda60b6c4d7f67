import { RedisTestApp, startRedisApp } from '../redis/support';
import { http, tokenFor } from '../support/test-app';

const KiB = 1024;

/**
 * What a client of each family sees once its org holds ORG_DISK_BUDGET_BYTES (the table in
 * docs/security.md says the same): the status and code are the catalogue's (400
 * DISK_BUDGET_EXCEEDED, RESP `-OOM`), each body in the family's own form; deletions pass.
 */
describe('budget: a spent disk budget, family by family', () => {
  let app: RedisTestApp;
  const token = tokenFor({ org: 'full' });
  beforeAll(async () => {
    app = await startRedisApp({ JOURNAL_SYNC: 'none', ORG_DISK_BUDGET_BYTES: String(300 * KiB), HISTORY_COMPACT_FACTOR: '0' });
    const value = Buffer.alloc(100 * KiB, 5);
    for (let i = 0; i < 10; i++) if ((await http(`${app.url}/c/k`, { method: 'POST', token, body: value })).status !== 201) return;
  });
  afterAll(() => app.dispose());

  it('native: 400 {"code":"DISK_BUDGET_EXCEEDED"} naming the setting, on the binary and the JSON write', async () => {
    for (const answer of [
      await http(`${app.url}/c/x`, { method: 'POST', token, body: Buffer.from('x') }),
      await http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'c', key: 'x', value: 'eA==' } }),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'DISK_BUDGET_EXCEEDED', message: expect.stringContaining('ORG_DISK_BUDGET_BYTES') });
    }
  });

  it('IronCache: 400 {"msg": ...}', async () => {
    const answer = await http(`${app.url}/1/projects/full/caches/c/items/y`, { method: 'PUT', headers: { authorization: `OAuth ${token}` }, body: { value: 'y' } });
    expect(answer.status).toBe(400);
    expect(answer.json().msg).toContain('ORG_DISK_BUDGET_BYTES');
  });

  it('Momento: 400, the message as text', async () => {
    const answer = await http(`${app.url}/cache/c?key=z&ttl_seconds=60&token=${token}`, { method: 'PUT', body: Buffer.from('z') });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('ORG_DISK_BUDGET_BYTES');
  });

  it('Upstash REST: 400 {"error": "OOM ..."}', async () => {
    const answer = await http(`${app.url}/redis/db/c/set/u/v`, { token });
    expect(answer.status).toBe(400);
    expect(answer.json().error).toMatch(/^OOM .*ORG_DISK_BUDGET_BYTES/);
  });

  it('RESP: -OOM, and DEL still passes', async () => {
    const client = await app.client('full', { db: 'c' });
    await expect(client.set('r', 'v')).rejects.toThrow(/^OOM .*ORG_DISK_BUDGET_BYTES/);
    expect(await client.del('k')).toBe(1);
  });
});

/** The same for the byte quota (docs/security.md's table): IronCache 403, Momento 429, Upstash 400 `OOM`, RESP `-OOM`. */
describe('budget: a spent byte quota, family by family', () => {
  let app: RedisTestApp;
  const token = tokenFor({ org: 'quota' });
  beforeAll(async () => {
    app = await startRedisApp({ JOURNAL_SYNC: 'none', ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' });
    expect((await http(`${app.url}/c/k`, { method: 'POST', token, body: Buffer.alloc(90, 1) })).status).toBe(201);
  });
  afterAll(() => app.dispose());

  it('answers each family as the table says', async () => {
    const value = Buffer.alloc(50, 2);
    const native = await http(`${app.url}/c/x`, { method: 'POST', token, body: value });
    expect([native.status, native.json().code]).toEqual([400, 'QUOTA_EXCEEDED']);
    expect((await http(`${app.url}/1/projects/quota/caches/c/items/y`, { method: 'PUT', headers: { authorization: `OAuth ${token}` }, body: { value: 'y'.repeat(50) } })).status).toBe(403);
    expect((await http(`${app.url}/cache/c?key=z&ttl_seconds=60&token=${token}`, { method: 'PUT', body: value })).status).toBe(429);
    const upstash = await http(`${app.url}/redis/db/c/set/u/${'v'.repeat(50)}`, { token });
    expect(upstash.status).toBe(400);
    expect(upstash.json().error).toMatch(/^OOM /);
    const client = await app.client('quota', { db: 'c' });
    await expect(client.set('r', 'v'.repeat(50))).rejects.toThrow(/^OOM /);
  });
});
