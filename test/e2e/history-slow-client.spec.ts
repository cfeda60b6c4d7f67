import { connect } from 'node:net';
import { EventStreamService } from '../../src/api/history/event-stream.service';
import { SseClient } from '../support/sse';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

describe('history stream: a client that does not read', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  beforeAll(async () => (app = await startTestApp({ env: { HISTORY_STREAM_BUFFER: '4', JOURNAL_SYNC: 'none' } })));
  afterAll(() => app.dispose());

  it('is dropped with an end event instead of growing memory, and sees that end once it reads again', async () => {
    await http(`${app.url}/big/k`, { method: 'POST', token, body: Buffer.alloc(10) });
    const streams = app.app.get(EventStreamService);
    const { port } = new URL(app.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(`GET /cacheName/big/events/stream HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\n\r\n`);
    while (!Buffer.concat(received).toString().includes('id: 2')) await new Promise((resolve) => setImmediate(resolve));
    socket.pause(); // stop reading: the kernel buffers fill, then the session's queue

    const value = Buffer.alloc(512 * 1024, 7);
    let writes = 0;
    while (streams.openSessions > 0 && writes < 400) {
      await http(`${app.url}/big/k`, { method: 'POST', token, body: value });
      writes++;
    }
    expect(streams.openSessions).toBe(0);

    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    const text = Buffer.concat(received).toString();
    const end = text.slice(text.lastIndexOf('event: end'));
    expect(end).toMatch(/^event: end\ndata: \{"reason":"slow-consumer","lastSeq":\d+/);
  });
});

describe('history stream: server shutdown', () => {
  it('ends open streams with a shutdown event so the server can stop', async () => {
    const app = await startTestApp();
    const token = tokenFor({ org: 'acme' });
    try {
      await http(`${app.url}/c/k`, { method: 'POST', token, body: Buffer.from('v') });
      const stream = await SseClient.open(`${app.url}/cacheName/c/events/stream?from=2`, { authorization: `Bearer ${token}` });
      expect((await stream.take(1)).map((m) => m.id)).toEqual(['2']);
      const closing = app.close();
      const end = await stream.next();
      expect(end).toMatchObject({ event: 'end' });
      expect(JSON.parse(end!.data)).toMatchObject({ reason: 'shutdown', lastSeq: 2 });
      expect(await stream.next()).toBeUndefined();
      await closing;
    } finally {
      await app.dispose();
    }
  });
});
