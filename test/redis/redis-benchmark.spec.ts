import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tokenFor } from '../support/test-app';
import { RedisTestApp, startRedisApp } from './support';

const run = promisify(execFile);

/** redis-benchmark (Debian's redis-tools), Redis's own load tool, as a client: every request answered, every write kept. */
describe('redis-benchmark against the RESP listener', () => {
  let app: RedisTestApp;
  beforeAll(async () => (app = await startRedisApp()));
  afterAll(() => app.dispose());

  it('runs SET, GET, INCR and MSET with a JWT as password, pipelined, and every write is in the cache and its history', async () => {
    const token = tokenFor({ org: 'bench', name: 'benchmark' });
    const { stdout } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(app.respPort), '-a', token, '-c', '4', '-n', '200', '-P', '8', '-d', '10', '-t', 'set,get,incr,mset', '--csv'], { timeout: 50_000 });
    const rows = new Map(
      stdout
        .split('\n')
        .map((line) => line.split('","').map((cell) => cell.replace(/^"|"$/g, '')))
        .filter((cells) => cells.length >= 7 && cells[0] !== 'test')
        .map((cells) => [cells[0], Number(cells[1])]),
    );
    expect([...rows.keys()].sort()).toEqual(['GET', 'INCR', 'MSET (10 keys)', 'SET']);
    for (const rps of rows.values()) expect(rps).toBeGreaterThan(0);
    const r = await app.client('bench');
    // Its keys without -r: one key per test; SET's value is 10 bytes (-d 10), INCR counted every request.
    expect(await r.strlen('key:__rand_int__')).toBe(10);
    expect(await r.get('counter:__rand_int__')).toBe('200');
    const events = await fetch(`${app.url}/cacheName/0/events?limit=1000`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.json() as Promise<{ events: Array<{ type: string; key?: string }> }>);
    const sets = events.events.filter((event) => event.type === 'Set' && event.key === 'counter:__rand_int__');
    expect(sets).toHaveLength(200);
  });
});
