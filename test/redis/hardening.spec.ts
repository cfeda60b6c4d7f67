import fc from 'fast-check';
import { Journal } from '../../src/journal/journal';
import { RespServer } from '../../src/redis/resp/resp-server';
import { tokenFor } from '../support/test-app';
import { RawConnection, RedisTestApp, resp, startRedisApp } from './support';

/** Bytes that break the protocol once authenticated: each ends in an error or a close, and writes nothing. */
const malformed = fc.oneof(
  fc.constantFrom(
    '*1\r\n*1\r\n$3\r\nSET\r\n', // nested array
    '*2\r\n:1\r\n$1\r\na\r\n', // an integer where a bulk goes
    '*2\r\n+OK\r\n', // a simple string where a bulk goes
    '*-5\r\n$3\r\nSET\r\n', // negative count, then a stray bulk header
    '*abc\r\n',
    '*99999999999999999999999\r\n',
    '*3\r\n$-1\r\n',
    '*3\r\n$99999999999\r\n',
    '*3\r\n$3x\r\n',
    '*2000000\r\n',
    '"unbalanced\r\n',
    '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab', // truncated, then the client goes away
  ),
  // A valid SET cut anywhere before its end.
  fc.integer({ min: 1, max: 30 }).map((cut) => resp('SET', 'fuzz-key', 'a-value-long-enough').subarray(0, cut).toString('latin1')),
  // '*' or '$' headers with random digits and junk.
  fc.tuple(fc.constantFrom('*', '*1\r\n$'), fc.string({ unit: fc.constantFrom(...'0123456789-+x \r'.split('')), maxLength: 25 })).map(([head, tail]) => `${head}${tail}\r\n`),
);

describe('Redis protocol: bounds and malformed input', () => {
  let app: RedisTestApp;
  let journal: Journal;
  beforeAll(async () => {
    // ANSWER_DRAIN_TIMEOUT_SECONDS 2 (default 10): the client that never reads is closed after it, not 10 s later.
    app = await startRedisApp({ MAX_VALUE_BYTES: '65536', RESP_MAX_QUERY_BYTES: '300000', RESP_AUTH_TIMEOUT_SECONDS: '2', MAX_RESPONSE_BYTES: '100000', ANSWER_DRAIN_TIMEOUT_SECONDS: '2' });
    journal = app.app.get(Journal);
  });
  afterAll(() => app.dispose());

  const alive = async () => {
    const r = await app.client('alive');
    expect(await r.ping()).toBe('PONG');
    r.disconnect();
  };

  it('random bytes before AUTH: errors or a close, never a crash, nothing journaled', async () => {
    const before = journal.highestOffset;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        const raw = await RawConnection.open(app.respPort);
        raw.send(Buffer.from(bytes));
        raw.send(resp('PING'));
        const text = await raw.read((t) => t.includes('NOAUTH') || t.includes('Protocol error'), 300);
        raw.close();
        for (const line of text.split('\r\n').filter((l) => l.length > 0)) expect(line.startsWith('-')).toBe(true);
      }),
      { numRuns: 150 },
    );
    expect(journal.highestOffset).toBe(before);
    await alive();
  });

  it('malformed frames after AUTH: a Redis protocol error and a close, nothing journaled', async () => {
    const before = journal.highestOffset;
    await fc.assert(
      fc.asyncProperty(malformed, async (frame) => {
        const raw = await RawConnection.open(app.respPort);
        raw.send(resp('AUTH', tokenFor({ org: 'fuzz' })));
        raw.send(Buffer.from(frame, 'latin1'));
        await raw.read((t) => t.startsWith('+OK\r\n'), 5000);
        const text = await raw.read((t) => raw.closed || t.includes('-ERR'), 100);
        raw.close();
        expect(text.startsWith('+OK\r\n')).toBe(true);
        const rest = text.slice(5);
        if (rest.length > 0) expect(rest).toMatch(/^-ERR (Protocol error|unknown command|wrong number)/);
      }),
      { numRuns: 100 },
    );
    expect(journal.highestOffset).toBe(before);
    await alive();
  });

  it('refuses lengths before it buffers them: bulk over MAX_VALUE_BYTES, unauthenticated multibulk and bulk', async () => {
    const raw = await RawConnection.open(app.respPort);
    raw.send(resp('AUTH', tokenFor({ org: 'bounds' })));
    raw.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$65537\r\n');
    expect(await raw.read(() => raw.closed)).toBe('+OK\r\n-ERR Protocol error: invalid bulk length\r\n');
    const anonymous = await RawConnection.open(app.respPort);
    anonymous.send('*11\r\n');
    expect(await anonymous.read(() => anonymous.closed)).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    const big = await RawConnection.open(app.respPort);
    big.send('*2\r\n$4\r\nAUTH\r\n$20000\r\n');
    expect(await big.read(() => big.closed)).toBe('-ERR Protocol error: unauthenticated bulk length\r\n');
  });

  it('closes a connection whose query buffer passes RESP_MAX_QUERY_BYTES', async () => {
    const r = await RawConnection.open(app.respPort);
    r.send(resp('AUTH', tokenFor({ org: 'bounds' })));
    // MSET of 6 values of 60 KiB, never finished: 360 KiB > 300,000 bytes.
    r.send(`*13\r\n$4\r\nMSET\r\n`);
    for (let i = 0; i < 6; i++) r.send(Buffer.concat([Buffer.from(`$1\r\n${i}\r\n$61440\r\n`), Buffer.alloc(61440, 97), Buffer.from('\r\n')]));
    expect(await r.read(() => r.closed)).toBe('+OK\r\n-ERR Protocol error: too big query buffer (RESP_MAX_QUERY_BYTES)\r\n');
  });

  it('a value over MAX_VALUE_BYTES made by APPEND is refused and nothing is written', async () => {
    const client = await app.client('bounds');
    await client.set('grow', Buffer.alloc(60000, 1));
    await expect(client.append('grow', Buffer.alloc(10000, 1))).rejects.toThrow(/^ERR string exceeds maximum allowed size/);
    expect(await client.strlen('grow')).toBe(60000);
    await expect(client.setrange('grow', 65530, 'abcdefgh')).rejects.toThrow(/^ERR string exceeds maximum allowed size/);
  });

  it('refuses a reply larger than MAX_RESPONSE_BYTES before building it', async () => {
    const client = await app.client('big-replies');
    await client.set('a', Buffer.alloc(60000, 1));
    await client.set('b', Buffer.alloc(60000, 2));
    expect((await client.getBuffer('a'))!.length).toBe(60000);
    await expect(client.mget('a', 'b')).rejects.toThrow(/^ERR the reply would be larger than MAX_RESPONSE_BYTES \(100000\)/);
    expect(await client.mget('a', 'nothing')).toHaveLength(2);
  });

  it('closes a connection that does not authenticate in RESP_AUTH_TIMEOUT_SECONDS', async () => {
    const raw = await RawConnection.open(app.respPort);
    const opened = Date.now();
    await raw.read(() => raw.closed, 5000);
    expect(raw.closed).toBe(true);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1500);
  });

  it('a client that never reads its replies is disconnected, and the service goes on', async () => {
    const client = await app.client('slow-reader');
    await client.set('big', Buffer.alloc(60000, 120));
    const server = app.app.get(RespServer);
    const before = server.openConnections;
    const raw = await RawConnection.open(app.respPort);
    raw.socket.pause();
    raw.send(resp('AUTH', tokenFor({ org: 'slow-reader' })));
    // 4,000 GETs of 60 KB each: 240 MB of replies the client never reads (RESP_MAX_OUTPUT_BYTES: 64 MiB;
    // held past its share, the connection is closed once it has read nothing for ANSWER_DRAIN_TIMEOUT_SECONDS).
    raw.send(Buffer.concat(Array.from({ length: 4000 }, () => resp('GET', 'big'))));
    const deadline = Date.now() + 20000;
    while (server.openConnections > before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.openConnections).toBe(before);
    raw.close();
    await alive();
  });
});
