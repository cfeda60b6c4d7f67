import { Socket, connect } from 'node:net';
import { ConnectionBudget } from '../../src/core/connection-budget';
import { tokenFor } from '../support/test-app';
import { resp, startRedisApp } from './support';

/** A raw TCP connection from a given loopback address (127.0.0.0/8 is all loopback on Linux). */
async function rawFrom(port: number, localAddress: string) {
  const socket: Socket = connect({ port, host: '127.0.0.1', localAddress });
  let received = '';
  let closed = false;
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    send: (bytes: string | Buffer) => socket.write(bytes),
    /** Waits until `done` holds for what came back, or the socket closed, or 5 s passed. */
    async read(done: (text: string) => boolean): Promise<string> {
      const deadline = Date.now() + 5000;
      while (!done(received) && !closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      return received;
    },
    get closed() {
      return closed;
    },
    close: () => socket.destroy(),
  };
}

describe('MAX_CONNECTIONS is one budget every listener shares (HTTP and RESP)', () => {
  it('counts, takes and gives back places by address (unit)', () => {
    const budget = new ConnectionBudget({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    const a1 = budget.take('a');
    budget.take('a');
    expect(budget.over('a')).toBe('MAX_CONNECTIONS_PER_ADDRESS');
    expect(budget.over('b')).toBeUndefined();
    budget.take('b');
    expect(budget.over('c')).toBe('MAX_CONNECTIONS');
    a1();
    a1(); // only the first give-back counts
    expect(budget.open).toBe(2);
    expect(budget.openFrom('a')).toBe(1);
    expect(budget.over('c')).toBeUndefined();
  });

  it('RESP connections count against the HTTP listener, and HTTP connections against the RESP listener', async () => {
    const app = await startRedisApp({ MAX_CONNECTIONS: '4', MAX_CONNECTIONS_PER_ADDRESS: '3' });
    const httpPort = Number(new URL(app.url).port);
    const token = tokenFor({ org: 'shared' });
    const open: Array<{ close(): void }> = [];
    try {
      // Three authenticated RESP connections from 127.0.0.1: that address's whole share.
      for (let i = 0; i < 3; i++) {
        const raw = await rawFrom(app.respPort, '127.0.0.1');
        open.push(raw);
        raw.send(resp('AUTH', token));
        expect(await raw.read((t) => t.includes('\r\n'))).toBe('+OK\r\n');
      }
      // An HTTP connection from the same address is over MAX_CONNECTIONS_PER_ADDRESS.
      const sameAddress = await rawFrom(httpPort, '127.0.0.1');
      const refusedByAddress = await sameAddress.read(() => false);
      expect(refusedByAddress).toMatch(/^HTTP\/1\.1 429 /);
      expect(refusedByAddress).toContain('MAX_CONNECTIONS_PER_ADDRESS');
      // Another address takes the last place with an authenticated HTTP request on a kept-alive connection.
      const http = await rawFrom(httpPort, '127.0.0.2');
      open.push(http);
      http.send(`GET /cacheName/list HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      expect(await http.read((t) => t.includes('\r\n\r\n'))).toMatch(/^HTTP\/1\.1 200 /);
      // Four open in all: a RESP connection is refused in Redis's words, an HTTP one with 503.
      const resp5 = await rawFrom(app.respPort, '127.0.0.3');
      expect(await resp5.read(() => false)).toBe('-ERR max number of clients reached\r\n');
      const http5 = await rawFrom(httpPort, '127.0.0.3');
      const refusedInAll = await http5.read(() => false);
      expect(refusedInAll).toMatch(/^HTTP\/1\.1 503 /);
      expect(refusedInAll).toContain('(MAX_CONNECTIONS)');
      // A RESP connection closes: its place is free for an HTTP one.
      open.shift()!.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const next = await rawFrom(httpPort, '127.0.0.3');
      open.push(next);
      next.send(`GET /cacheName/list HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      expect(await next.read((t) => t.includes('\r\n\r\n'))).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const raw of open) raw.close();
      await app.dispose();
    }
  });
});
