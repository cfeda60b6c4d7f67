import { ChildProcess, spawn } from 'node:child_process';
import fc from 'fast-check';
import Redis from 'ioredis';
import { globMatch } from '../../src/redis/engine/glob';
import { freePort } from '../support/free-port';
import { RedisTestApp, startRedisApp } from './support';

/**
 * The same command sequences against cachelog and a real redis-server (Debian's, the
 * oracle): replies must be equal. Times are kept far from boundaries so TTLs compare exactly.
 */
const SEQUENCES: Array<Array<Array<string | number>>> = [
  [['SET', 'a', '1'], ['GET', 'a'], ['SET', 'a', '2', 'NX'], ['SET', 'a', '3', 'XX', 'GET'], ['GET', 'a'], ['SET', 'b', 'x', 'XX'], ['SETNX', 'a', '9'], ['SETNX', 'c', '9']],
  [['SET', 'a', 'v', 'EX', '100'], ['TTL', 'a'], ['SET', 'a', 'w', 'KEEPTTL'], ['TTL', 'a'], ['SET', 'a', 'z'], ['TTL', 'a'], ['PERSIST', 'a'], ['TTL', 'nokey'], ['PTTL', 'nokey']],
  [['SET', 'a', 'v', 'EX', '0'], ['SET', 'a', 'v', 'EX', '-1'], ['SET', 'a', 'v', 'EX', 'x'], ['SET', 'a', 'v', 'NX', 'XX'], ['SET', 'a', 'v', 'EX', '1', 'PX', '1'], ['SET', 'a', 'v', 'BOGUS'], ['SETEX', 'a', '0', 'v'], ['PSETEX', 'a', '-5', 'v'], ['GET', 'a']],
  [['INCR', 'n'], ['INCRBY', 'n', '10'], ['DECR', 'n'], ['DECRBY', 'n', '3'], ['INCRBY', 'n', 'x'], ['SET', 'n', '9223372036854775807'], ['INCR', 'n'], ['SET', 's', 'abc'], ['INCR', 's'], ['SET', 'm', '-9223372036854775808'], ['DECR', 'm'], ['DECRBY', 'm', '-9223372036854775808'], ['GET', 'n']],
  [['INCRBYFLOAT', 'f', '1.5'], ['INCRBYFLOAT', 'f', '0.1'], ['INCRBYFLOAT', 'f', 'abc'], ['INCRBYFLOAT', 'f', '1e3'], ['SET', 'g', '3.0e3'], ['INCRBYFLOAT', 'g', '1'], ['INCRBYFLOAT', 'f', 'inf']],
  [['APPEND', 'a', 'hello'], ['APPEND', 'a', ' world'], ['STRLEN', 'a'], ['STRLEN', 'none'], ['GETRANGE', 'a', '0', '4'], ['GETRANGE', 'a', '-5', '-1'], ['GETRANGE', 'a', '5', '2'], ['GETRANGE', 'a', '-1', '-5'], ['GETRANGE', 'a', '0', '100'], ['GETRANGE', 'none', '0', '1']],
  [['SETRANGE', 'a', '5', 'xy'], ['GET', 'a'], ['SETRANGE', 'a', '0', 'AB'], ['GET', 'a'], ['SETRANGE', 'b', '0', ''], ['EXISTS', 'b'], ['SETRANGE', 'a', '-1', 'x']],
  [['SETBIT', 'b', '7', '1'], ['GET', 'b'], ['GETBIT', 'b', '7'], ['GETBIT', 'b', '100'], ['SETBIT', 'b', '7', '0'], ['SETBIT', 'b', '-1', '1'], ['SETBIT', 'b', '1', '2'], ['SET', 'c', 'foobar'], ['BITCOUNT', 'c'], ['BITCOUNT', 'c', '0', '0'], ['BITCOUNT', 'c', '1', '1'], ['BITCOUNT', 'c', '1', '1', 'BIT'], ['BITCOUNT', 'c', '5', '30', 'BIT'], ['BITCOUNT', 'c', '0'], ['BITCOUNT', 'none']],
  [['MSET', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'c'], ['MSETNX', 'c', '3', 'a', '9'], ['MSETNX', 'c', '3', 'd', '4'], ['MGET', 'a', 'b', 'c', 'd'], ['MSET', 'a'], ['GETSET', 'a', 'new'], ['GETSET', 'z', 'new'], ['GETDEL', 'a'], ['GETDEL', 'a'], ['GETEX', 'b', 'EX', '100'], ['TTL', 'b'], ['GETEX', 'b', 'PERSIST'], ['TTL', 'b'], ['GETEX', 'b', 'EX', '0'], ['GETEX', 'b', 'FOO']],
  [['MSET', 'a', '1', 'b', '2', 'c', '3'], ['DEL', 'a', 'b', 'x'], ['EXISTS', 'a', 'c', 'c'], ['TYPE', 'c'], ['TYPE', 'a'], ['UNLINK', 'c'], ['DBSIZE'], ['TOUCH', 'a']],
  [['SET', 'a', '1'], ['RENAME', 'a', 'b'], ['GET', 'b'], ['RENAME', 'a', 'b'], ['SET', 'c', '2'], ['RENAMENX', 'b', 'c'], ['RENAMENX', 'b', 'd'], ['COPY', 'd', 'e'], ['COPY', 'd', 'c'], ['COPY', 'd', 'c', 'REPLACE'], ['GET', 'c'], ['COPY', 'd', 'd'], ['RENAME', 'd', 'd']],
  [['MSET', 'user:1', 'a', 'user:2', 'b', 'usr', 'c', 'x[1]', 'd', 'hé', 'e'], ['KEYS', 'user:*'], ['KEYS', 'us?r*'], ['KEYS', 'u[s]er:[^1]'], ['KEYS', 'x\\[1\\]'], ['KEYS', 'h?'], ['KEYS', 'h??'], ['KEYS', '[a-v]s*']],
  [['SET', 'a', '1'], ['EXPIRE', 'a', '100'], ['TTL', 'a'], ['EXPIRE', 'a', '50', 'GT'], ['EXPIRE', 'a', '200', 'GT'], ['TTL', 'a'], ['EXPIRE', 'a', '10', 'NX'], ['EXPIRE', 'a', '10', 'XX'], ['TTL', 'a'], ['EXPIRE', 'a', '10', 'NX', 'XX'], ['EXPIRE', 'a', '10', 'GT', 'LT'], ['EXPIRE', 'a', '10', 'FOO'], ['PERSIST', 'a'], ['PERSIST', 'a'], ['EXPIRE', 'a', '20', 'LT'], ['TTL', 'a'], ['EXPIRE', 'nokey', '10'], ['EXPIRE', 'a', 'x'], ['EXPIRE', 'a', '-1'], ['EXISTS', 'a']],
  [['SET', 'a', '1'], ['PEXPIREAT', 'a', '4000000000000'], ['PEXPIRETIME', 'a'], ['EXPIRETIME', 'a'], ['EXPIREAT', 'a', '4000000000'], ['EXPIRETIME', 'a'], ['EXPIRETIME', 'none'], ['PERSIST', 'a'], ['EXPIRETIME', 'a'], ['EXPIREAT', 'a', '1'], ['EXISTS', 'a'], ['EXPIRE', 'a', '9223372036854775807']],
  [['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['GET', 'a'], ['EXEC'], ['GET', 'a']],
  [['MULTI'], ['SET', 'a', '1'], ['INCR', 'nope', 'extra'], ['EXEC'], ['GET', 'a']],
  [['MULTI'], ['SET', 'a', 'x'], ['INCR', 'a'], ['SET', 'b', '1', 'BADOPT'], ['SET', 'c', '3'], ['EXEC'], ['MGET', 'a', 'b', 'c']],
  [['EXEC'], ['DISCARD'], ['MULTI'], ['MULTI'], ['PING'], ['DISCARD'], ['GET', 'a']],
  [['SET', 'a', '1'], ['WATCH', 'a'], ['GET', 'a'], ['MULTI'], ['INCR', 'a'], ['EXEC'], ['WATCH', 'a'], ['MULTI'], ['WATCH', 'b'], ['DISCARD'], ['UNWATCH']],
  [['GET'], ['SET', 'a'], ['FOO', 'bar'], ['foo'], ['GET', 'a', 'b'], ['PING'], ['PING', 'hello'], ['PING', 'a', 'b'], ['ECHO', 'x']],
  [['MSET', 'a', '1', 'b', '2'], ['FLUSHDB'], ['DBSIZE'], ['RANDOMKEY'], ['SCAN', 'x'], ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'FOO', 'bar']],
];

describe('Redis protocol: differential against redis-server', () => {
  let app: RedisTestApp;
  let server: ChildProcess;
  let redisPort: number;

  beforeAll(async () => {
    app = await startRedisApp();
    redisPort = await freePort();
    server = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    // Until redis-server answers (it takes a moment to start, longer on a busy machine).
    for (let attempt = 0; ; attempt++) {
      const probe = new Redis({ port: redisPort, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') break;
      } catch (caught) {
        if (attempt > 100) throw caught;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        probe.disconnect();
      }
    }
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await app.dispose();
  });

  const run = async (client: Redis, sequence: Array<Array<string | number>>) => {
    const replies: unknown[] = [];
    for (const [name, ...args] of sequence) {
      try {
        const reply = await client.call(String(name), ...args.map(String));
        // KEYS answers in the store's order (Redis: its hash table's); compared as sets.
        replies.push(String(name) === 'KEYS' && Array.isArray(reply) ? [...reply].sort() : reply);
      } catch (caught) {
        replies.push({ error: (caught as Error).message });
      }
    }
    return replies;
  };

  it.each(SEQUENCES.map((s, i) => [i, s] as const))('sequence %i answers as Redis does', async (index, sequence) => {
    const ours = await app.client(`diff-${index}`);
    const oracle = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await oracle.connect();
    await oracle.flushall();
    try {
      const expected = await run(oracle, sequence);
      const actual = await run(ours, sequence);
      const table = sequence.map((command, i) => ({ command: command.join(' '), redis: expected[i], cachelog: actual[i] }));
      expect(table.filter((row) => JSON.stringify(row.redis) !== JSON.stringify(row.cachelog))).toStrictEqual([]);
    } finally {
      oracle.disconnect();
    }
  });

  it('glob matching equals Redis\'s on random patterns and keys (KEYS)', async () => {
    const oracle = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await oracle.connect();
    try {
      const alphabet = fc.constantFrom(...'ab*?[]^-\\é'.split(''));
      const keys = ['a', 'b', 'ab', 'ba', 'aab', '*', '?', '[', ']', '-', '\\', 'a-b', 'é', 'aé', '^a', 'a]b', 'a[b'];
      await oracle.flushall();
      await oracle.mset(...keys.flatMap((k) => [k, '1']));
      await fc.assert(
        fc.asyncProperty(fc.array(alphabet, { maxLength: 7 }), async (chars) => {
          const pattern = chars.join('');
          const expected = ((await oracle.keys(pattern)) as string[]).sort();
          const actual = keys.filter((k) => globMatch(Buffer.from(pattern), Buffer.from(k))).sort();
          expect({ pattern, matches: actual }).toEqual({ pattern, matches: expected });
        }),
        { numRuns: 400 },
      );
    } finally {
      oracle.disconnect();
    }
  });

  it('random command sequences over a few keys answer as Redis does (strings, integers, expiry, transactions)', async () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const small = fc.oneof(fc.constantFrom('0', '1', '-1', '10', '9223372036854775806', '-9223372036854775807', 'x', '1.5', ''), fc.integer({ min: -50, max: 50 }).map(String));
    const value = fc.oneof(small, fc.constantFrom('hello', 'é', 'abc'));
    const simple = fc.oneof(
      fc.tuple(fc.constant('SET'), key, value),
      fc.tuple(fc.constant('SET'), key, value, fc.constantFrom('NX', 'XX', 'GET', 'KEEPTTL')),
      // Absolute expiry times, so NX/XX/GT/LT decide the same whatever ms the two servers run in.
      fc.tuple(fc.constant('SET'), key, value, fc.constant('EXAT'), fc.constantFrom('4050000000', '0', '-1')),
      fc.tuple(fc.constantFrom('GET', 'INCR', 'DECR', 'DEL', 'EXISTS', 'STRLEN', 'GETDEL', 'PERSIST', 'TTL', 'TYPE'), key),
      fc.tuple(fc.constantFrom('INCRBY', 'DECRBY', 'APPEND', 'SETNX', 'GETSET'), key, value),
      fc.tuple(fc.constant('INCRBYFLOAT'), key, fc.constantFrom('1', '0.5', '-2.25', '1e2', 'x')),
      fc.tuple(fc.constant('GETRANGE'), key, small, small),
      fc.tuple(fc.constant('SETRANGE'), key, fc.constantFrom('0', '2', '-1'), value),
      fc.tuple(fc.constantFrom('RENAME', 'RENAMENX', 'COPY'), key, key),
      fc.tuple(fc.constant('EXPIREAT'), key, fc.constantFrom('4000000000', '4100000000', '1'), fc.constantFrom('NX', 'XX', 'GT', 'LT')),
      fc.tuple(fc.constant('EXPIRE'), key, fc.constantFrom('0', '-5')),
      fc.tuple(fc.constant('MSET'), key, value, key, value),
      fc.tuple(fc.constant('MGET'), key, key),
      fc.tuple(fc.constant('SETBIT'), key, fc.constantFrom('0', '7', '13'), fc.constantFrom('0', '1')),
      fc.tuple(fc.constant('BITCOUNT'), key),
    ).map((command) => [...command] as string[]);
    const step = fc.oneof(
      { weight: 5, arbitrary: simple.map((c) => [c]) },
      { weight: 1, arbitrary: fc.array(simple, { minLength: 1, maxLength: 4 }).map((cs) => [['MULTI'], ...cs, ['EXEC']]) },
    );
    const oracle = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await oracle.connect();
    const ours = await app.client('random-sequences');
    // TTLs are compared by kind (no expiry, missing, or some time left): the two servers' clocks differ by ms.
    const normalise = (name: string, reply: unknown) => (name === 'TTL' && typeof reply === 'number' && reply > 0 ? 'ttl>0' : reply);
    const runAll = async (client: Redis, commands: string[][]) => {
      const out: unknown[] = [];
      for (const [name, ...rest] of commands) {
        try {
          out.push(normalise(name, await client.call(name, ...rest)));
        } catch (caught) {
          out.push({ error: (caught as Error).message });
        }
      }
      return out;
    };
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          const commands = steps.flat();
          await oracle.flushall();
          await ours.flushdb();
          const expected = await runAll(oracle, commands);
          const actual = await runAll(ours, commands);
          const table = commands.map((command, i) => ({ command: command.join(' '), redis: expected[i], cachelog: actual[i] }));
          expect(table.filter((row) => JSON.stringify(row.redis) !== JSON.stringify(row.cachelog))).toStrictEqual([]);
        }),
        { numRuns: 150 },
      );
    } finally {
      oracle.disconnect();
    }
  });
});
