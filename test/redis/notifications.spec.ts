import { tokenFor } from '../support/test-app';
import { RawConnection, RedisTestApp, resp, startRedisApp } from './support';

describe('Redis protocol: keyspace notifications fed by the event log', () => {
  let app: RedisTestApp;
  beforeAll(async () => {
    app = await startRedisApp();
  });
  afterAll(() => app.dispose());

  it('delivers __keyspace@ and __keyevent@ messages for the org\'s own writes only, over ioredis', async () => {
    const subscriber = await app.client('notify');
    const writer = await app.client('notify');
    const stranger = await app.client('notify-other');
    const messages: string[] = [];
    subscriber.on('pmessage', (pattern: string, channel: string, message: string) => messages.push(`${pattern}|${channel}|${message}`));
    subscriber.on('message', (channel: string, message: string) => messages.push(`${channel}|${message}`));
    await subscriber.psubscribe('__keyspace@0__:*');
    await subscriber.subscribe('__keyevent@0__:del');
    await stranger.set('k', 'not yours');
    await writer.set('k', 'v');
    await writer.expire('k', 100);
    await writer.del('k');
    await writer.select('other');
    await writer.set('elsewhere', 'v');
    const deadline = Date.now() + 5000;
    while (messages.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(messages).toEqual(['__keyspace@0__:*|__keyspace@0__:k|set', '__keyspace@0__:*|__keyspace@0__:k|expire', '__keyspace@0__:*|__keyspace@0__:k|del', '__keyevent@0__:del|k']);
  });

  it('answers SUBSCRIBE once per channel (RESP2 arrays, RESP3 pushes) and PING as a message when subscribed', async () => {
    const raw = await RawConnection.open(app.respPort);
    raw.send(resp('AUTH', tokenFor({ org: 'notify' })));
    raw.send(resp('SUBSCRIBE', 'a', 'b'));
    raw.send(resp('PING'));
    raw.send(resp('GET', 'k'));
    raw.send(resp('UNSUBSCRIBE'));
    expect(await raw.read((t) => t.endsWith(':0\r\n'))).toBe(
      '+OK\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n' +
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
        '*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n',
    );
    raw.take();
    raw.send(resp('HELLO', '3'));
    await raw.read((t) => t.includes('modules'));
    raw.take();
    raw.send(resp('SUBSCRIBE', '__keyevent@0__:set'));
    raw.send(resp('SET', 'x', '1'));
    expect(await raw.read((t) => t.includes('$1\r\nx\r\n'))).toBe('>3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:set\r\n:1\r\n+OK\r\n>3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nx\r\n');
    raw.close();
  });

  it('CACHELOG.SUBSCRIBE sends the past from a sequence number, then live events; resubscribing FROM the next misses nothing', async () => {
    const writer = await app.client('streams');
    await writer.select('feed');
    await writer.set('a', '1');
    await writer.set('b', '2');
    const token = tokenFor({ org: 'streams' });
    const events = (text: string) => [...text.matchAll(/\$14\r\ncachelog.event\r\n\$4\r\nfeed\r\n:(\d+)\r\n\$\d+\r\n(\w+)\r\n/g)].map((m) => `${m[1]}:${m[2]}`);
    const raw = await RawConnection.open(app.respPort);
    raw.send(resp('AUTH', token));
    raw.send(resp('CACHELOG.SUBSCRIBE', 'feed', 'FROM', '1'));
    expect(events(await raw.read((t) => events(t).length >= 3))).toEqual(['1:Created', '2:Set', '3:Set']);
    await writer.del('a');
    expect(events(await raw.read((t) => events(t).length >= 4))).toEqual(['1:Created', '2:Set', '3:Set', '4:Deleted']);
    raw.close();
    // While nobody listens: two more events. Subscribing again FROM 5 gets exactly those, then live ones.
    await writer.set('c', '3');
    await writer.expire('c', 100);
    const again = await RawConnection.open(app.respPort);
    again.send(resp('AUTH', token));
    again.send(resp('CACHELOG.SUBSCRIBE', 'feed', 'FROM', '5'));
    expect(events(await again.read((t) => events(t).length >= 2))).toEqual(['5:Set', '6:ExpiryChanged']);
    await writer.set('d', '4');
    expect(events(await again.read((t) => events(t).length >= 3))).toEqual(['5:Set', '6:ExpiryChanged', '7:Set']);
    again.send(resp('CACHELOG.UNSUBSCRIBE'));
    expect(await again.read((t) => t.includes('cachelog.unsubscribe'))).toContain('$20\r\ncachelog.unsubscribe\r\n$4\r\nfeed\r\n:0\r\n');
    again.close();
    // Another org cannot follow this org's cache: its "feed" is its own (empty) cache.
    const stranger = await RawConnection.open(app.respPort);
    stranger.send(resp('AUTH', tokenFor({ org: 'someone-else' })));
    stranger.send(resp('CACHELOG.SUBSCRIBE', 'feed'));
    await stranger.read((t) => t.includes('cachelog.subscribe'));
    await writer.set('e', '5');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events(stranger.take())).toStrictEqual([]);
    stranger.close();
  });
});
