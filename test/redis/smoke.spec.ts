import { Writable } from 'node:stream';
import { http, tokenFor } from '../support/test-app';
import { startRedisApp, RedisTestApp } from './support';

const METRICS_TOKEN = 'metrics-token-for-the-redis-tests';

class CapturedLog extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('Redis protocol: smoke', () => {
  let app: RedisTestApp;
  const log = new CapturedLog();
  beforeAll(async () => {
    app = await startRedisApp({ METRICS_TOKEN, LOG_FORMAT: 'json' }, { logger: ['log', 'error', 'warn'], logDestination: log });
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

  it('writes one log line per command, without its arguments (no keys, values or tokens)', async () => {
    const token = tokenFor({ org: 'logged', name: 'logan' });
    const r = await app.client('logged');
    await r.auth(token);
    await r.set('secret-key-name', 'secret-value');
    await r.incr('secret-key-name').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = log.text.split('\n').filter((l) => l.includes('"command completed"')).map((l) => JSON.parse(l));
    expect(lines.find((l) => l.cmd === 'set')).toMatchObject({ context: 'RESP', db: '0', status: 'OK' });
    expect(lines.filter((l) => l.cmd === 'incr').pop()).toMatchObject({ status: 'ERR' });
    expect(lines.find((l) => l.cmd === 'auth')).toBeDefined();
    expect(log.text).not.toContain('secret-key-name');
    expect(log.text).not.toContain('secret-value');
    expect(log.text).not.toContain(token);
  });
});
