import { startRedisApp, RedisTestApp } from './support';

describe('Redis protocol: smoke', () => {
  let app: RedisTestApp;
  beforeAll(async () => {
    app = await startRedisApp();
  });
  afterAll(() => app.dispose());

  it('SET then GET over ioredis', async () => {
    const r = await app.client('acme');
    expect(await r.ping()).toBe('PONG');
    expect(await r.set('k', 'v')).toBe('OK');
    expect(await r.get('k')).toBe('v');
    expect(await r.incr('n')).toBe(1);
    expect(await r.incrby('n', 41)).toBe(42);
    expect(await r.mget('k', 'n', 'missing')).toEqual(['v', '42', null]);
  });
});
