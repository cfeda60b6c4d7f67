import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { http, tokenFor } from '../support/test-app';
import { RawConnection, RedisTestApp, resp, startRedisApp } from './support';

const run = promisify(execFile);

describe('Redis protocol over TCP', () => {
  let app: RedisTestApp;
  beforeAll(async () => {
    app = await startRedisApp();
  });
  afterAll(() => app.dispose());

  describe('auth walls', () => {
    it('answers NOAUTH before AUTH, except AUTH, HELLO and QUIT', async () => {
      const raw = await RawConnection.open(app.respPort);
      raw.send(resp('GET', 'k'));
      raw.send(resp('PING'));
      raw.send(resp('HELLO', '3'));
      expect(await raw.lines(3)).toBe(
        '-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n' +
          '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n',
      );
      raw.take();
      raw.send(resp('AUTH', 'not-a-jwt'));
      raw.send(resp('AUTH', 'default', tokenFor({ org: 'walls' }, { secret: 'another-secret-of-at-least-32-bytes' })));
      expect(await raw.lines(2)).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n'.repeat(2));
      raw.take();
      raw.send(resp('AUTH', tokenFor({ org: 'walls' })));
      raw.send(resp('PING'));
      raw.send(resp('QUIT'));
      expect(await raw.read(() => raw.closed)).toBe('+OK\r\n+PONG\r\n+OK\r\n');
    });

    it('takes HELLO 3 AUTH <user> <jwt>, answers RESP3, and the user names the starting cache', async () => {
      const raw = await RawConnection.open(app.respPort);
      raw.send(resp('HELLO', '3', 'AUTH', 'sessions', tokenFor({ org: 'walls' }), 'SETNAME', 'me'));
      const hello = await raw.read((t) => t.includes('modules'));
      expect(hello.startsWith('%7\r\n')).toBe(true);
      expect(hello).toContain('$5\r\nproto\r\n:3\r\n');
      raw.take();
      raw.send(resp('SET', 'k', 'in-sessions'));
      raw.send(resp('GET', 'nothing'));
      raw.send(resp('CLIENT', 'GETNAME'));
      expect(await raw.lines(3)).toBe('+OK\r\n_\r\n$2\r\nme\r\n');
      raw.close();
      const read = await http(`${app.url}/sessions/k`, { token: tokenFor({ org: 'walls' }) });
      expect(read.text).toBe('in-sessions');
    });

    it('stops honouring a token at its exp', async () => {
      const raw = await RawConnection.open(app.respPort);
      raw.send(resp('AUTH', tokenFor({ org: 'walls' }, { expiresIn: 1 })));
      raw.send(resp('PING'));
      expect(await raw.lines(2)).toBe('+OK\r\n+PONG\r\n');
      raw.take();
      await new Promise((resolve) => setTimeout(resolve, 2100));
      raw.send(resp('PING'));
      expect(await raw.lines(1)).toBe('-NOAUTH Authentication required.\r\n');
      raw.close();
    });

    it('keeps two orgs apart: keys, KEYS, SCAN, DBSIZE, INFO keyspace, CLIENT LIST, FLUSHALL', async () => {
      const a = await app.client('org-a', { name: 'alice' });
      const b = await app.client('org-b', { name: 'bob' });
      await a.set('shared-name', 'a-value');
      await a.set('only-a', '1');
      await b.set('shared-name', 'b-value');
      await a.select('other');
      await a.set('in-other', '1');
      await a.select('0');
      expect(await a.get('shared-name')).toBe('a-value');
      expect(await b.get('shared-name')).toBe('b-value');
      expect(await b.get('only-a')).toBeNull();
      expect((await b.keys('*')).sort()).toEqual(['shared-name']);
      expect(await b.scan('0', 'COUNT', '1000')).toEqual(['0', ['shared-name']]);
      expect(await b.dbsize()).toBe(1);
      const info = await b.info('keyspace');
      expect(info).toContain('db0:keys=1,');
      expect(info).not.toContain('dbother');
      const list = (await b.client('LIST')) as string;
      expect(list).toContain('user=bob');
      expect(list).not.toContain('user=alice');
      expect(await a.flushall()).toBe('OK');
      expect(await a.dbsize()).toBe(0);
      await a.select('other');
      expect(await a.dbsize()).toBe(0);
      expect(await b.get('shared-name')).toBe('b-value');
    });

    it('refuses keys that are not UTF-8, and COPY into another database', async () => {
      const r = await app.client('keys-rule');
      await expect(r.set(Buffer.from([0xff, 0xfe]), 'v')).rejects.toThrow(/invalid key: cachelog keys are 1 to 1024 characters of valid UTF-8/);
      await expect(r.set('', 'v')).rejects.toThrow(/invalid key/);
      await expect(r.set('x'.repeat(1025), 'v')).rejects.toThrow(/invalid key/);
      expect(await r.set('é'.repeat(1024), 'v')).toBe('OK');
      await r.set('src', 'v');
      await expect(r.call('COPY', 'src', 'dst', 'DB', '1')).rejects.toThrow(/COPY to another database is not supported/);
      expect(await r.call('COPY', 'src', 'dst', 'DB', '0')).toBe(1);
    });
  });

  describe('durability and one key on every protocol', () => {
    it('a write over RESP reads back over HTTP, byte for byte, and is in the history', async () => {
      const r = await app.client('durable', { name: 'rita' });
      const value = Buffer.from([0, 1, 2, 255, 254, 13, 10]);
      await r.set('bin/é', value);
      await r.set('t', 'x', 'EX', 100);
      const token = tokenFor({ org: 'durable' });
      const read = await http(`${app.url}/0/${encodeURIComponent('bin/é')}`, { token });
      expect(read.status).toBe(200);
      expect(read.body.equals(value)).toBe(true);
      const written = await http(`${app.url}/0/from-http`, { method: 'POST', token, body: Buffer.from('hi') });
      expect(written.status).toBe(201);
      expect(await r.get('from-http')).toBe('hi');
      const history = (await http(`${app.url}/cacheName/0/events`, { token })).json();
      const sets = history.events.filter((e: { type: string }) => e.type === 'Set');
      expect(sets[0]).toMatchObject({ key: 'bin/é', value: value.toString('base64'), by: 'rita' });
      expect(sets[1].expiresAt).not.toBeNull();
    });

    it('one EXEC is one journaled group: its events are consecutive', async () => {
      const r = await app.client('atomic');
      const replies = await r.multi().set('a', '1').incr('a').set('b', '2').del('a').exec();
      expect(replies).toEqual([[null, 'OK'], [null, 2], [null, 'OK'], [null, 1]]);
      const events = (await http(`${app.url}/cacheName/0/events`, { token: tokenFor({ org: 'atomic' }) })).json().events;
      expect(events.map((e: { type: string; key?: string }) => `${e.type}:${e.key ?? ''}`)).toEqual(['Created:', 'Set:a', 'Set:a', 'Set:b', 'Deleted:a']);
    });
  });

  describe('cachelog-only commands', () => {
    it('CACHELOG.VERSIONS lists who changed a key, when, to what; CACHELOG.GETAT reads it as it was', async () => {
      const r = await app.client('versions', { name: 'vera' });
      await r.client('SETNAME', 'laptop');
      await r.set('doc', 'v1');
      await r.set('other', 'x');
      await r.set('doc', 'v2', 'EX', 100);
      await r.del('doc');
      const [cursor, versions] = (await r.call('CACHELOG.VERSIONS', 'doc')) as [string, unknown[][]];
      expect(cursor).toBe('0');
      const rows = versions.map((v) => Object.fromEntries(Array.from({ length: v.length / 2 }, (_, i) => [v[2 * i], v[2 * i + 1]])));
      expect(rows.map((row) => [row.type, row.value ?? null, row.by, row.device])).toEqual([
        ['Set', 'v1', 'vera', 'laptop'],
        ['Set', 'v2', 'vera', 'laptop'],
        ['Deleted', null, 'vera', 'laptop'],
      ]);
      expect(rows[1].expiresat).toMatch(/^\d{4}-/);
      const seqs = rows.map((row) => row.seq as number);
      expect(await r.call('CACHELOG.GETAT', 'doc', 'AT', String(seqs[0]))).toBe('v1');
      expect(await r.call('CACHELOG.GETAT', 'doc', 'AT', String(seqs[1]))).toBe('v2');
      expect(await r.call('CACHELOG.GETAT', 'doc', 'AT', String(seqs[2]))).toBeNull();
      expect(await r.call('CACHELOG.GETAT', 'doc', 'ASOF', '2000-01-01T00:00:00Z')).toBeNull();
      await expect(r.call('CACHELOG.GETAT', 'doc', 'AT', 'yesterday')).rejects.toThrow(/^ERR at: must be a sequence number/);
      const [next, page] = (await r.call('CACHELOG.VERSIONS', 'doc', 'COUNT', '1')) as [string, unknown[]];
      expect(page).toHaveLength(1);
      const [, rest] = (await r.call('CACHELOG.VERSIONS', 'doc', 'FROM', next, 'COUNT', '10')) as [string, unknown[]];
      expect(rest).toHaveLength(2);
    });
  });

  describe('pipelining, transactions, inline commands', () => {
    it('answers a pipeline in order, and a read sees the pipeline\'s earlier writes', async () => {
      const r = await app.client('pipes');
      const pipeline = r.pipeline();
      for (let i = 0; i < 200; i++) pipeline.set(`k${i % 10}`, String(i)).get(`k${i % 10}`).incr('counter');
      const results = (await pipeline.exec())!;
      for (let i = 0; i < 200; i++) {
        expect(results[i * 3]).toEqual([null, 'OK']);
        expect(results[i * 3 + 1]).toEqual([null, String(i)]);
        expect(results[i * 3 + 2]).toEqual([null, i + 1]);
      }
    });

    it('WATCH aborts EXEC when another client changed the key', async () => {
      const r = await app.client('watch');
      const other = await app.client('watch');
      await r.set('balance', '10');
      await r.watch('balance');
      await other.incrby('balance', 5);
      expect(await r.multi().incrby('balance', 100).exec()).toBeNull();
      expect(await r.get('balance')).toBe('15');
      await r.watch('balance');
      expect(await r.multi().incrby('balance', 100).get('balance').exec()).toEqual([
        [null, 115],
        [null, '115'],
      ]);
    });

    it('answers inline commands, with quotes', async () => {
      const raw = await RawConnection.open(app.respPort);
      raw.send(`AUTH ${tokenFor({ org: 'inline' })}\r\nSET "a key" "two\\x41 words"\r\nGET 'a key'\r\n\r\nPING\n`);
      expect(await raw.lines(4)).toBe('+OK\r\n+OK\r\n$10\r\ntwoA words\r\n+PONG\r\n');
      raw.send('SET "unbalanced\r\n');
      expect(await raw.read(() => raw.closed)).toContain('-ERR Protocol error: unbalanced quotes in request\r\n');
    });

    it('answers unknown commands and wrong arity with Redis\'s words', async () => {
      const r = await app.client('words');
      await expect(r.call('NOPE', 'a', 'b')).rejects.toThrow("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ");
      await expect(r.call('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
      await expect(r.call('CLIENT', 'NOPE')).rejects.toThrow("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.");
    });
  });

  describe('server commands', () => {
    it('COMMAND, COMMAND COUNT/INFO/DOCS from the command table; INFO sections; TIME; CONFIG GET; CLIENT', async () => {
      const r = await app.client('server');
      const count = (await r.call('COMMAND', 'COUNT')) as number;
      expect(count).toBeGreaterThan(60);
      const [get] = (await r.command('INFO', 'get')) as unknown[][];
      expect(get.slice(0, 6)).toEqual(['get', 2, ['readonly', 'fast'], 1, 1, 1]);
      expect(await r.command('INFO', 'lpush')).toEqual([null]);
      const docs = (await r.call('COMMAND', 'DOCS', 'set')) as unknown[];
      expect(docs[0]).toBe('set');
      const info = await r.info();
      for (const section of ['# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Keyspace']) expect(info).toContain(section);
      expect(info).toContain('redis_version:7.0.0');
      const [seconds, micros] = (await r.time()) as unknown as [string, string];
      expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(5);
      expect(Number(micros)).toBeLessThan(1_000_000);
      expect(await r.config('GET', 'maxmemory*')).toEqual(['maxmemory', '0', 'maxmemory-policy', 'noeviction']);
      expect(typeof (await r.client('ID'))).toBe('number');
      expect(await r.client('SETNAME', 'worker-1')).toBe('OK');
      expect(await r.client('GETNAME')).toBe('worker-1');
      expect(await r.client('INFO')).toMatch(/^id=\d+ addr=127\.0\.0\.1:\d+ .*name=worker-1 .*db=0 /);
      await expect(r.client('SETNAME', 'has space')).rejects.toThrow('ERR Client names cannot contain spaces, newlines or special characters.');
    });

    it('SCAN visits every key exactly once while nothing changes, and every untouched key under concurrent writes', async () => {
      const r = await app.client('scan');
      const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
      await r.mset(...keys.flatMap((k) => [k, 'v']));
      const seen: string[] = [];
      let cursor = '0';
      let round = 0;
      do {
        const [next, batch] = await r.scan(cursor, 'COUNT', 17);
        seen.push(...batch);
        // Writes during the scan: new keys and deleted ones; the 250 untouched keys must all be seen.
        await r.set(`new:${round}`, 'v');
        await r.del(`key:${299 - round}`);
        round++;
        cursor = next;
      } while (cursor !== '0');
      for (const key of keys.slice(0, 250)) expect(seen).toContain(key);
      const matched = await r.scan('0', 'MATCH', 'key:1?', 'COUNT', 1000);
      expect(matched[1].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `key:1${i}`).sort());
      expect(((await r.call('SCAN', '0', 'TYPE', 'hash', 'COUNT', '1000')) as [string, string[]])[1]).toStrictEqual([]);
    });
  });

  describe('other clients', () => {
    it('node-redis (RESP2 and RESP3) reads and writes the same keys', async () => {
      const token = tokenFor({ org: 'clients' });
      for (const RESP of [2, 3] as const) {
        const client = createClient({ url: `redis://127.0.0.1:${app.respPort}`, username: 'default', password: token, RESP });
        await client.connect();
        await client.set(`nr${RESP}`, 'value', { EX: 100 });
        expect(await client.get(`nr${RESP}`)).toBe('value');
        expect(await client.ttl(`nr${RESP}`)).toBeGreaterThan(90);
        expect(await client.multi().incr('c').incr('c').exec()).toHaveLength(2);
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: 'nr*' })) keys.push(...batch);
        expect(keys).toContain(`nr${RESP}`);
        await client.quit();
      }
      const ioredis = await app.client('clients');
      expect(await ioredis.mget('nr2', 'nr3', 'c')).toEqual(['value', 'value', '4']);
    });

    it('redis-cli works against it (its connect-time COMMAND DOCS included)', async () => {
      const token = tokenFor({ org: 'cli' });
      const cli = (...args: string[]) => run('redis-cli', ['-p', String(app.respPort), '--user', 'default', '--pass', token, '--no-auth-warning', ...args]);
      expect((await cli('SET', 'greeting', 'hello world')).stdout.trim()).toBe('OK');
      expect((await cli('GET', 'greeting')).stdout.trim()).toBe('hello world');
      expect((await cli('--scan', '--pattern', 'gre*')).stdout.trim()).toBe('greeting');
      expect((await cli('-n', '0', 'DBSIZE')).stdout.trim()).toBe('1');
      const { stdout } = await run('bash', ['-c', `printf 'SET a 1\\nINCR a\\nGET a\\n' | redis-cli -p ${app.respPort} --user default --pass ${token} --no-auth-warning`]);
      expect(stdout.trim().split('\n')).toEqual(['OK', '2', '2']);
    });
  });
});

export { Redis };
