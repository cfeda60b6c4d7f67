import { RawConnection, sleep } from '../support/raw-socket';
import { SseClient } from '../support/sse';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass (no connection timeouts): idle sockets, slow headers, trickled bodies
 * and idle keep-alive connections end; connections per address and in all are capped, and a
 * capped address does not stop another from being served. SSE streams, long-lived by design,
 * outlive the request timeout.
 */
describe('server timeouts', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  beforeAll(
    async () =>
      (app = await startTestApp({
        env: { CONNECTION_IDLE_TIMEOUT_SECONDS: '2', REQUEST_TIMEOUT_SECONDS: '2', HEADERS_TIMEOUT_SECONDS: '1', KEEP_ALIVE_TIMEOUT_SECONDS: '1' },
      })),
  );
  afterAll(() => app.dispose());

  it('closes a socket that never sends a byte (CONNECTION_IDLE_TIMEOUT_SECONDS)', async () => {
    const idle = await RawConnection.open(app.url);
    expect(await idle.closedWithin(10_000)).toBe(true);
  });

  it('cuts headers that never end (HEADERS_TIMEOUT_SECONDS)', async () => {
    const slow = await RawConnection.open(app.url);
    slow.write('GET /cacheName/list HTTP/1.1\r\nhost: x\r\n');
    const dripping = setInterval(() => slow.write('x-pad: 1\r\n'), 300);
    try {
      expect(await slow.closedWithin(10_000)).toBe(true);
    } finally {
      clearInterval(dripping);
    }
  });

  it('cuts a body trickled a byte at a time (REQUEST_TIMEOUT_SECONDS) with 408', async () => {
    const trickle = await RawConnection.open(app.url);
    trickle.write(`POST /cacheName HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`);
    const dripping = setInterval(() => trickle.write(' '), 300);
    try {
      expect(await trickle.closedWithin(10_000)).toBe(true);
      expect(trickle.text).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(dripping);
    }
  });

  it('keeps an SSE stream open past the request timeout: it is long-lived by design', async () => {
    await http(`${app.url}/sse/k`, { method: 'POST', token, body: Buffer.from('1') });
    const stream = await SseClient.open(`${app.url}/cacheName/sse/events/stream`, { authorization: `Bearer ${token}` });
    expect((await stream.take(1)).map((m) => m.id)).toEqual(['1']);
    await sleep(4500); // twice the request timeout, and past the idle timeout (heartbeats keep it)
    await http(`${app.url}/sse/k`, { method: 'POST', token, body: Buffer.from('2') });
    const messages = await stream.take(1);
    expect(messages.map((m) => m.id)).toEqual(['2']);
    stream.close();
  });
});

describe('connection caps', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp({ env: { MAX_CONNECTIONS_PER_ADDRESS: '3', MAX_CONNECTIONS: '5', KEEP_ALIVE_TIMEOUT_SECONDS: '1' } })));
  afterAll(() => app.dispose());

  let streams = 0;
  /**
   * A connection held by a client with a token (an event stream): the caps refuse beyond these.
   * Anonymous connections would instead give their place to a new one (see
   * hardening-anonymous-connections.spec.ts).
   */
  const held = async (address: string) => {
    const connection = await RawConnection.open(app.url, address);
    connection.write(`GET /cacheName/held${++streams}/events/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tokenFor({ org: 'holder', name: `h${streams}` })}\r\n\r\n`);
    expect(await connection.status(5000)).toBe(200);
    return connection;
  };

  it('refuses connections beyond the per-address cap, while another address (and org) is still served', async () => {
    const holding = [await held('127.0.0.1'), await held('127.0.0.1'), await held('127.0.0.1')];
    try {
      const refused = await RawConnection.open(app.url, '127.0.0.1');
      expect(await refused.status(5000)).toBe(429);
      expect(await refused.json(5000)).toEqual({ code: 'TOO_MANY_CONNECTIONS', message: expect.stringContaining('MAX_CONNECTIONS_PER_ADDRESS') });
      expect(await refused.closedWithin(5000)).toBe(true);

      const other = await RawConnection.open(app.url, '127.0.0.2');
      other.write(`GET /cacheName/list HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tokenFor({ org: 'other' })}\r\n\r\n`);
      expect(await other.status(5000)).toBe(200);
      other.destroy();
    } finally {
      for (const connection of holding) connection.destroy();
    }
  });

  it('refuses connections beyond MAX_CONNECTIONS in all, and admits again once some close', async () => {
    const holding = [await held('127.0.0.3'), await held('127.0.0.3'), await held('127.0.0.3'), await held('127.0.0.4'), await held('127.0.0.4')];
    const refused = await RawConnection.open(app.url, '127.0.0.5');
    expect(await refused.status(5000)).toBe(503);
    expect((await refused.json(5000)).code).toBe('TOO_MANY_CONNECTIONS');
    refused.destroy();
    for (const connection of holding) connection.destroy();
    await Promise.all(holding.map((c) => c.closedWithin(5000)));
    // The server sees the closes a moment later.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await http(`${app.url}/cacheName/list`, { token: tokenFor({ org: 'acme' }) }).catch(() => ({ status: 0 }))).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).toBe(200);
  });

  it('closes a keep-alive connection idle past KEEP_ALIVE_TIMEOUT_SECONDS (the idle timeout here is the default 60 s)', async () => {
    const client = await RawConnection.open(app.url, '127.0.0.6');
    client.write(`GET /cacheName/list HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tokenFor({ org: 'acme' })}\r\n\r\n`);
    expect(await client.status(5000)).toBe(200);
    expect(client.text).toMatch(/keep-alive: timeout=1/i);
    expect(await client.closedWithin(10_000)).toBe(true);
  });
});
