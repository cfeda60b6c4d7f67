import { Redis as Upstash } from '@upstash/redis';
import { http, tokenFor } from '../support/test-app';
import { RedisTestApp, startRedisApp } from '../redis/support';

type Step = readonly [string, ...Array<string | number>];

/** Command sequences run over RESP (ioredis) and over HTTP (@upstash/redis), each on a cache of its own. */
const SEQUENCES: Record<string, readonly Step[]> = {
  strings: [
    ['SET', 'k', 'v'], ['GET', 'k'], ['APPEND', 'k', 'w'], ['STRLEN', 'k'], ['GETRANGE', 'k', 0, 0], ['SETRANGE', 'k', 1, 'XY'], ['GET', 'k'],
    ['MSET', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'nope'], ['SETNX', 'a', 'x'], ['GETSET', 'a', '9'], ['GETDEL', 'b'], ['EXISTS', 'a', 'b'], ['DEL', 'a', 'k'], ['DBSIZE'],
  ],
  integers: [
    ['INCR', 'n'], ['INCRBY', 'n', 41], ['DECR', 'n'], ['DECRBY', 'n', 2], ['INCRBYFLOAT', 'f', '2.5'], ['INCRBYFLOAT', 'f', '0.25'], ['SET', 's', 'text'], ['INCR', 's'],
    ['SET', 'max', '9223372036854775807'], ['INCR', 'max'], ['GET', 'n'],
  ],
  expiry: [
    ['SET', 'k', 'v', 'EX', 1000], ['EXPIRE', 'k', 2000, 'GT'], ['PERSIST', 'k'], ['TTL', 'k'], ['EXPIRE', 'k', 500], ['EXPIRE', 'k', 100, 'NX'], ['TYPE', 'k'], ['TTL', 'missing'], ['RENAME', 'k', 'k2'], ['EXISTS', 'k', 'k2'],
  ],
  errors: [['GET'], ['NOSUCHCOMMAND', 'x'], ['SET', 'k', 'v', 'EX', 'soon'], ['SET', 'k', 'v', 'NX', 'XX'], ['INCRBY', 'k', 'one'], ['GETRANGE', 'k', 'a', 'b']],
};

/** A reply as comparable data: errors as `{ error }`; numbers as they come (the client parses JSON numbers). */
const norm = (value: unknown): unknown => (value instanceof Error ? { error: value.message.replace(/^Command failed: /, '').replace(/, command was: .*$/, '') } : value);

describe('one command, one meaning: the same commands over RESP (ioredis) and over HTTP (@upstash/redis)', () => {
  let app: RedisTestApp;
  beforeAll(async () => {
    app = await startRedisApp();
  });
  afterAll(() => app.dispose());

  const ORG = 'same';
  const TOKEN = tokenFor({ org: ORG, name: 'tester' });

  /** The events of a cache, without what differs by nature: the time, the global offset, an expiry's exact millisecond. */
  async function events(cache: string): Promise<unknown[]> {
    const page = (await http(`${app.url}/cacheName/${encodeURIComponent(cache)}/events?limit=1000`, { token: TOKEN })).json();
    if (page.events === undefined) return [page.code]; // no cache: nothing was written either way
    return page.events.map(({ time: _time, offset: _offset, expiresAt, ...rest }: Record<string, unknown>) => ({ ...rest, expires: expiresAt === undefined ? 'n/a' : expiresAt !== null }));
  }

  it.each(Object.keys(SEQUENCES))('%s: equal replies and equal history events', async (name) => {
    const steps = SEQUENCES[name];
    const resp = await app.client(ORG, { db: `resp-${name}` });
    const upstash = new Upstash({ url: `${app.url}/redis/db/http-${name}`, token: TOKEN, retry: false, enableTelemetry: false, automaticDeserialization: false });
    const overResp: unknown[] = [];
    const overHttp: unknown[] = [];
    for (const [command, ...args] of steps) {
      overResp.push(norm(await resp.call(command, ...args).catch((e: Error) => e)));
      overHttp.push(norm(await upstash.exec([command, ...args]).catch((e: Error) => e)));
    }
    // ioredis answers integers as numbers and strings as strings, as the JSON does (up to 2^53).
    expect(overHttp).toEqual(overResp);
    expect(await events(`http-${name}`)).toEqual(await events(`resp-${name}`));
  });

  it('a transaction: MULTI/EXEC over RESP and /multi-exec over HTTP journal the same group', async () => {
    const resp = await app.client(ORG, { db: 'resp-tx' });
    const upstash = new Upstash({ url: `${app.url}/redis/db/http-tx`, token: TOKEN, retry: false, enableTelemetry: false, automaticDeserialization: false });
    await resp.set('seed', 'x');
    await upstash.set('seed', 'x');
    const overResp = await resp.multi().set('a', '1').incr('a').incr('seed').get('a').exec();
    const overHttp = await upstash.multi().set('a', '1').incr('a').incr('seed').get('a').exec({ keepErrors: true });
    expect(overHttp.map((r: { result?: unknown; error?: string }) => (r.error ? { error: r.error } : r.result))).toEqual(
      overResp!.map(([error, result]) => (error ? { error: error.message } : result)),
    );
    expect(await events('http-tx')).toEqual(await events('resp-tx'));
  });
});
