import { Redis } from '@upstash/redis';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** The real @upstash/redis client pointed at a real service (LevelDB in a temp dir, a loopback port). */
describe('Upstash-style Redis REST API: the @upstash/redis client', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { UPSTASH_MAX_PIPELINE_COMMANDS: '50' } });
  });
  afterAll(() => app.dispose());

  const client = (org: string, options: { db?: string; claims?: Record<string, unknown>; base64?: boolean; deserialize?: boolean } = {}) =>
    new Redis({
      url: `${app.url}/redis${options.db === undefined ? '' : `/db/${encodeURIComponent(options.db)}`}`,
      token: tokenFor({ org, ...options.claims }),
      retry: false,
      enableTelemetry: false,
      responseEncoding: options.base64 === false ? false : 'base64',
      automaticDeserialization: options.deserialize ?? false,
    });

  it('strings: SET, GET, MGET, APPEND, STRLEN, GETRANGE, GETDEL, SETNX, MSET', async () => {
    const redis = client('strings');
    expect(await redis.set('greeting', 'hello')).toBe('OK');
    expect(await redis.get('greeting')).toBe('hello');
    expect(await redis.append('greeting', ' world')).toBe(11);
    expect(await redis.strlen('greeting')).toBe(11);
    expect(await redis.getrange('greeting', 0, 4)).toBe('hello');
    expect(await redis.mset({ a: '1', b: 'two' })).toBe('OK');
    expect(await redis.mget('a', 'b', 'missing')).toEqual(['1', 'two', null]);
    expect(await redis.setnx('a', 'x')).toBe(0);
    expect(await redis.getdel('b')).toBe('two');
    expect(await redis.get('b')).toBeNull();
    expect(await redis.set('unicode', 'ünï — 日本')).toBe('OK');
    expect(await redis.get('unicode')).toBe('ünï — 日本');
    expect(await redis.exists('a', 'b', 'greeting')).toBe(2);
    expect(await redis.del('a', 'greeting')).toBe(2);
    expect(await redis.dbsize()).toBe(1);
  });

  it('automatic deserialization of JSON values, as the client does it', async () => {
    const redis = client('json', { deserialize: true });
    await redis.set('user', { name: 'ada', langs: ['en'] });
    expect(await redis.get('user')).toEqual({ name: 'ada', langs: ['en'] });
  });

  it('integers: INCR, INCRBY, DECR, DECRBY, INCRBYFLOAT, and 64-bit limits', async () => {
    const redis = client('integers');
    expect(await redis.incr('n')).toBe(1);
    expect(await redis.incrby('n', 41)).toBe(42);
    expect(await redis.decr('n')).toBe(41);
    expect(await redis.decrby('n', 1)).toBe(40);
    expect(await redis.incrbyfloat('f', 1.5)).toBe('1.5');
    await redis.set('big', '9223372036854775806');
    expect(await redis.incr('big')).toBe(9223372036854775807); // exact on the wire; JSON.parse rounds it as any JS client does
    await expect(redis.incr('big')).rejects.toThrow('ERR increment or decrement would overflow');
  });

  it('expiry: SET EX, TTL, PTTL, EXPIRE, PERSIST, and an expired key is never served', async () => {
    const redis = client('expiry');
    await redis.set('k', 'v', { ex: 100 });
    expect(await redis.ttl('k')).toBeGreaterThan(98);
    expect(await redis.pttl('k')).toBeGreaterThan(98_000);
    expect(await redis.persist('k')).toBe(1);
    expect(await redis.ttl('k')).toBe(-1);
    expect(await redis.expire('k', 50)).toBe(1);
    expect(await redis.ttl('k')).toBeGreaterThan(48);
    expect(await redis.ttl('missing')).toBe(-2);
    await redis.set('short', 'v', { px: 30 });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await redis.get('short')).toBeNull();
    expect(await redis.setex('sx', 10, 'v')).toBe('OK');
    expect(await redis.ttl('sx')).toBeGreaterThan(8);
  });

  it('pipeline: answered in order, each with its own result or error', async () => {
    const redis = client('pipeline');
    const results = await redis.pipeline().set('k', 'v').incr('n').incr('n').get('k').get('missing').exec();
    expect(results).toEqual(['OK', 1, 2, 'v', null]);
    const kept = await redis.pipeline().set('s', 'text').incr('s').get('s').exec({ keepErrors: true });
    expect(kept.map((r: { error?: string }) => r.error)).toEqual([undefined, 'ERR value is not an integer or out of range', undefined]);
    expect(kept[2].result).toBe('text');
  });

  it('multi-exec: one transaction, each command seeing the ones before it, in one journaled append', async () => {
    const redis = client('multi');
    const results = await redis.multi().set('a', '1').incr('a').incrby('a', 10).get('a').exec();
    expect(results).toEqual(['OK', 2, 12, '12']);
    const events = (await http(`${app.url}/cacheName/0/events`, { token: tokenFor({ org: 'multi' }) })).json();
    const sets = events.events.filter((e: { type: string }) => e.type === 'Set');
    expect(sets.map((e: { value: string }) => Buffer.from(e.value, 'base64').toString())).toEqual(['1', '2', '12']);
    // One append: consecutive sequence numbers, one commit time.
    expect(sets.map((e: { seq: number }) => e.seq - sets[0].seq)).toEqual([0, 1, 2]);
    expect(new Set(sets.map((e: { time: string }) => e.time)).size).toBe(1);
  });

  it('base64 encoding: binary-looking values and every string but OK come back exact', async () => {
    const plain = client('b64', { base64: false });
    const encoded = client('b64');
    await plain.set('k', 'YmFy');
    expect(await encoded.get('k')).toBe('YmFy');
    const raw = await http(`${app.url}/redis/get/k`, { token: tokenFor({ org: 'b64' }), headers: { 'upstash-encoding': 'base64' } });
    expect(raw.json()).toEqual({ result: Buffer.from('YmFy').toString('base64') });
    const ok = await http(`${app.url}/redis/set/k2/v`, { token: tokenFor({ org: 'b64' }), headers: { 'upstash-encoding': 'base64' } });
    expect(ok.json()).toEqual({ result: 'OK' });
    const pong = await http(`${app.url}/redis/ping`, { token: tokenFor({ org: 'b64' }), headers: { 'upstash-encoding': 'base64' } });
    expect(pong.json()).toEqual({ result: Buffer.from('PONG').toString('base64') });
  });

  it('errors: a failed command throws with Redis words; the HTTP status is 400', async () => {
    const redis = client('errors');
    await redis.set('s', 'text');
    await expect(redis.incr('s')).rejects.toThrow('ERR value is not an integer or out of range');
    const unknown = await http(`${app.url}/redis`, { method: 'POST', token: tokenFor({ org: 'errors' }), body: ['NOSUCH', 'a'] });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toEqual({ error: "ERR unknown command 'NOSUCH', with args beginning with: 'a' " });
    const arity = await http(`${app.url}/redis`, { method: 'POST', token: tokenFor({ org: 'errors' }), body: ['GET'] });
    expect(arity.json()).toEqual({ error: "ERR wrong number of arguments for 'get' command" });
    const noToken = await http(`${app.url}/redis/get/s`);
    expect(noToken.status).toBe(401);
    expect(noToken.json().error).toMatch(/^Unauthorized/);
    await expect(new Redis({ url: `${app.url}/redis`, token: 'not-a-jwt', retry: false, enableTelemetry: false }).get('s')).rejects.toThrow(/Unauthorized/);
  });

  it('a database is a cache of the org: /redis/db/<cache>, walled by org', async () => {
    const users = client('walls', { db: 'users' });
    const zero = client('walls');
    await users.set('k', 'in users');
    await zero.set('k', 'in 0');
    expect(await users.get('k')).toBe('in users');
    expect(await zero.get('k')).toBe('in 0');
    const other = client('other-org', { db: 'users' });
    await other.set('x', '1');
    expect(await other.get('k')).toBeNull();
    const native = await http(`${app.url}/users/k`, { token: tokenFor({ org: 'walls' }) });
    expect(native.text).toBe('in users');
  });

  it('a read-only token (readOnly: true) reads, and every write is refused with NOPERM and changes nothing', async () => {
    await client('ro').set('k', 'v');
    const readOnly = client('ro', { claims: { readOnly: true } });
    expect(await readOnly.get('k')).toBe('v');
    await expect(readOnly.set('k', 'changed')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
    await expect(readOnly.multi().get('k').del('k').exec()).rejects.toThrow(/EXECABORT.*command 2: NOPERM.*'del'/);
    expect(await readOnly.get('k')).toBe('v');
    // The other families answer it GET and HEAD only.
    const nativeWrite = await http(`${app.url}/0/k`, { method: 'POST', token: tokenFor({ org: 'ro', readOnly: true }), body: Buffer.from('x') });
    expect(nativeWrite.status).toBe(403);
    expect((await http(`${app.url}/0/k`, { token: tokenFor({ org: 'ro', readOnly: true }) })).text).toBe('v');
  });

  it('read-your-writes: a write answers upstash-sync-token; sent back, a read waits for that sequence, and one never journaled is refused', async () => {
    const token = tokenFor({ org: 'sync' });
    const write = await http(`${app.url}/redis/set/k/v`, { token });
    const seq = Number(write.headers.get('upstash-sync-token'));
    expect(seq).toBeGreaterThan(0);
    const read = await http(`${app.url}/redis/get/k`, { token, headers: { 'upstash-sync-token': String(seq) } });
    expect(read.json()).toEqual({ result: 'v' });
    expect(read.headers.get('upstash-sync-token')).toBe(String(seq));
    const ahead = await http(`${app.url}/redis/get/k`, { token, headers: { 'upstash-sync-token': String(seq + 1000) } });
    expect(ahead.status).toBe(400);
    expect(ahead.json().error).toMatch(/^TRYAGAIN/);
    const malformed = await http(`${app.url}/redis/get/k`, { token, headers: { 'upstash-sync-token': 'abc' } });
    expect(malformed.status).toBe(400);
    // The client keeps the token between requests by itself.
    const redis = client('sync');
    await redis.set('k2', 'v2');
    expect(await redis.get('k2')).toBe('v2');
  });

  it('read-your-writes across flushes: FLUSHDB and FLUSHALL answer the flushed cache\'s seq as upstash-sync-token, and a read with it sees the flush', async () => {
    const token = tokenFor({ org: 'syncflush' });
    const tokenOf = (answer: { headers: Headers }) => Number(answer.headers.get('upstash-sync-token'));
    const written = tokenOf(await http(`${app.url}/redis/set/k/v`, { token }));
    const flushedDb = await http(`${app.url}/redis/flushdb`, { token, headers: { 'upstash-sync-token': String(written) } });
    expect(tokenOf(flushedDb)).toBe(written + 1);
    const rewritten = tokenOf(await http(`${app.url}/redis/set/k/v`, { token }));
    // A fresh request (no token sent): FLUSHALL answers the seq of its cache's Flushed event.
    const flushedAll = await http(`${app.url}/redis/flushall`, { token });
    expect(flushedAll.json()).toEqual({ result: 'OK' });
    expect(tokenOf(flushedAll)).toBe(rewritten + 1);
    const read = await http(`${app.url}/redis/get/k`, { token, headers: { 'upstash-sync-token': String(tokenOf(flushedAll)) } });
    expect(read.json()).toEqual({ result: null });
  });
});
