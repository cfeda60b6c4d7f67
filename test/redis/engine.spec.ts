import { RedisEngine, isPending, settle } from '../../src/redis/engine/engine';
import { RedisReply, bulk, map, text } from '../../src/redis/engine/reply';
import { Session } from '../../src/redis/engine/session';
import { scanStep } from '../../src/redis/engine/commands/keys';
import { encodeReply } from '../../src/redis/resp/resp-encoder';
import { RequestParser, splitInline } from '../../src/redis/resp/request-parser';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

const args = (...words: string[]) => words.map((w) => Buffer.from(w));

/** The engine without any transport: what the Upstash-style HTTP family will call. */
describe('Redis command engine (transport-free)', () => {
  let app: TestApp;
  let engine: RedisEngine;
  beforeAll(async () => {
    app = await startTestApp({ env: { RESP_PORT: 'off' } });
    engine = app.app.get(RedisEngine);
  });
  afterAll(() => app.dispose());

  const session = () => {
    const s = new Session(Date.now());
    engine.open(s);
    return s;
  };
  const answer = (s: Session, ...words: string[]) => settle(engine.execute(s, args(...words)));

  it('authenticates, then writes answer once durable and reads see the session\'s earlier writes', async () => {
    const s = session();
    expect(await answer(s, 'GET', 'k')).toEqual({ t: 'error', s: 'NOAUTH Authentication required.' });
    expect(await answer(s, 'AUTH', tokenFor({ org: 'engine' }))).toEqual({ t: 'simple', s: 'OK' });
    const write = engine.execute(s, args('SET', 'k', 'v1'));
    expect(isPending(write) && !write.barrier).toBe(true);
    // Sent before the write is durable: the read waits for it (a barrier), and sees it.
    const read = engine.execute(s, args('GET', 'k'));
    expect(isPending(read) && read.barrier).toBe(true);
    expect(await settle(read)).toEqual(bulk(Buffer.from('v1')));
    expect(await settle(write)).toEqual({ t: 'simple', s: 'OK' });
    // Nothing pending and the cache ready: a read answers synchronously.
    const now = engine.execute(s, args('GET', 'k'));
    expect(isPending(now)).toBe(false);
    engine.close(s);
  });

  it('queues MULTI commands and answers EXEC with each command\'s reply', async () => {
    const s = session();
    await answer(s, 'AUTH', tokenFor({ org: 'engine' }));
    expect(await answer(s, 'MULTI')).toEqual({ t: 'simple', s: 'OK' });
    expect(await answer(s, 'SET', 'a', '1')).toEqual({ t: 'simple', s: 'QUEUED' });
    expect(await answer(s, 'INCRBY', 'a', 'x')).toEqual({ t: 'simple', s: 'QUEUED' });
    expect(await answer(s, 'INCR', 'a')).toEqual({ t: 'simple', s: 'QUEUED' });
    expect(await answer(s, 'EXEC')).toEqual({
      t: 'array',
      items: [{ t: 'simple', s: 'OK' }, { t: 'error', s: 'ERR value is not an integer or out of range' }, { t: 'int', n: 2n }],
    });
    engine.close(s);
  });

  it('scanStep never splits keys that share a hash and ends with cursor 0', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    const seen = new Set<string>();
    let cursor = 0n;
    do {
      const step = scanStep(keys, cursor, 7);
      step.batch.forEach((k) => seen.add(k));
      cursor = step.next;
    } while (cursor !== 0n);
    expect(seen.size).toBe(1000);
  });
});

describe('RESP request parser and reply encoder', () => {
  const limits = { maxMultibulk: 100, maxBulk: 1000, maxInline: 100, unauthenticatedMultibulk: 10, unauthenticatedBulk: 100 };

  it('reads a pipeline fed one byte at a time', () => {
    const parser = new RequestParser(limits, () => true);
    const bytes = Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n');
    const commands: string[][] = [];
    for (const byte of bytes) commands.push(...parser.push(Buffer.from([byte])).commands.map((c) => c.map(String)));
    expect(commands).toEqual([['GET', 'k'], ['PING'], ['SET', 'k', '']]);
    expect(parser.buffered).toBe(0);
  });

  it('fills a big argument in place across chunks', () => {
    const parser = new RequestParser({ ...limits, maxBulk: 100_000 }, () => true);
    const value = Buffer.alloc(70_000, 7);
    const frame = Buffer.concat([Buffer.from('*2\r\n$4\r\nECHO\r\n$70000\r\n'), value, Buffer.from('\r\n')]);
    const out: Buffer[][] = [];
    for (let i = 0; i < frame.length; i += 4096) out.push(...parser.push(frame.subarray(i, i + 4096)).commands);
    expect(out).toHaveLength(1);
    expect(out[0][1].equals(value)).toBe(true);
  });

  it('splits inline commands as Redis does', () => {
    expect(splitInline(Buffer.from(`set "a b" 'c\\'d' "\\x41\\n" plain`))!.map(String)).toEqual(['set', 'a b', "c'd", 'A\n', 'plain']);
    expect(splitInline(Buffer.from('"unclosed'))).toBeUndefined();
    expect(splitInline(Buffer.from('"a"b'))).toBeUndefined();
  });

  it('encodes RESP3 shapes and their RESP2 fallbacks', () => {
    const reply: RedisReply = map([[text('a'), { t: 'double', n: 1.5 }], [text('b'), { t: 'bool', v: true }], [text('c'), { t: 'null' }]]);
    expect(encodeReply(reply, 3).toString()).toBe('%3\r\n$1\r\na\r\n,1.5\r\n$1\r\nb\r\n#t\r\n$1\r\nc\r\n_\r\n');
    expect(encodeReply(reply, 2).toString()).toBe('*6\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n:1\r\n$1\r\nc\r\n$-1\r\n');
    expect(encodeReply({ t: 'nullArray' }, 2).toString()).toBe('*-1\r\n');
    expect(encodeReply({ t: 'verbatim', s: 'x' }, 3).toString()).toBe('=5\r\ntxt:x\r\n');
  });
});
