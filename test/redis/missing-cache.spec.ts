import { RedisTestApp, startRedisApp } from './support';

/**
 * Reads of a database (cache) that does not exist load no entity: they are answered from its
 * read-model row, over RESP as over HTTP, and never wait for an entity that will not come.
 */
describe('Redis reads of a cache that does not exist', () => {
  let app: RedisTestApp;
  beforeAll(async () => (app = await startRedisApp()));
  afterAll(() => app.dispose());

  it('answers GET, MGET, EXISTS, TTL, KEYS and DBSIZE at once, and a write then creates the cache', async () => {
    const r = await app.client('ghosts', { db: 'nowhere' });
    expect(await r.get('k')).toBeNull();
    expect(await r.mget('a', 'b')).toEqual([null, null]);
    expect(await r.exists('k')).toBe(0);
    expect(await r.ttl('k')).toBe(-2);
    expect(await r.keys('*')).toStrictEqual([]);
    expect(await r.dbsize()).toBe(0);
    expect(await r.set('k', 'v')).toBe('OK');
    expect(await r.get('k')).toBe('v');
  });

  it('answers a deleted cache the same way', async () => {
    const r = await app.client('ghosts', { db: 'gone' });
    await r.set('k', 'v');
    const native = await fetch(`${app.url}/cacheName/gone`, { method: 'DELETE', headers: { authorization: `Bearer ${(r.options.password as string)}` } });
    expect(native.status).toBe(202);
    expect(await r.get('k')).toBeNull();
    expect(await r.dbsize()).toBe(0);
  });
});
