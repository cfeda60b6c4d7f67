import { http } from '../support/test-app';
import { startRedisApp, RedisTestApp } from './support';

const METRICS_TOKEN = 'metrics-token-for-the-redis-tests';

describe('Redis protocol: smoke', () => {
  let app: RedisTestApp;
  beforeAll(async () => {
    app = await startRedisApp({ METRICS_TOKEN });
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

  it('counts commands, errors and latency per command, and connected clients, in /metrics', async () => {
    const r = await app.client('metrics');
    await r.set('a', 'x');
    await r.incr('a').catch(() => undefined);
    await r.call('NOSUCH').catch(() => undefined);
    const text = (await http(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text;
    expect(text).toMatch(/cachelog_redis_commands_total\{command="set"\} [1-9]/);
    expect(text).toMatch(/cachelog_redis_command_errors_total\{command="incr"\} 1/);
    expect(text).toMatch(/cachelog_redis_command_errors_total\{command="unknown"\} 1/);
    expect(text).toMatch(/cachelog_redis_command_duration_seconds_bucket\{le="0.1",command="get"\}|cachelog_redis_command_duration_seconds_count\{command="set"\} [1-9]/);
    expect(text).toMatch(/cachelog_redis_connected_clients [1-9]/);
  });
});
