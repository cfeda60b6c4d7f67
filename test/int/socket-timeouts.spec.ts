import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { closeIdleSocketsAfterPendingReads } from '../../src/api/edge/socket-timeouts';
import { RawConnection, sleep } from '../support/raw-socket';

/**
 * The idle timeout closes idle sockets, not sockets whose request the service is still working
 * on: a batch over 10,000 new caches took longer than CONNECTION_IDLE_TIMEOUT_SECONDS on a
 * loaded CI machine and its client got "other side closed" instead of the answer.
 */
describe('socket idle timeout and requests in progress', () => {
  const IDLE_MS = 300;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/slow') {
        setTimeout(() => response.end('done'), IDLE_MS * 4);
      } else if (request.url === '/stalled') {
        // Headers go out, the answer never ends: the socket is idle from here on.
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('begun');
      } else {
        // Answers once the whole body is in.
        request.resume();
        request.on('end', () => response.end('uploaded'));
      }
    });
    server.setTimeout(IDLE_MS);
    server.keepAliveTimeout = IDLE_MS;
    closeIdleSocketsAfterPendingReads(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers a request that takes four idle timeouts to compute, on the same socket', async () => {
    const connection = await RawConnection.open(url);
    connection.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await connection.until(() => connection.text.endsWith('done'), 5000)).toBe(true);
    expect(connection.text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(connection.isClosed).toBe(false);
    // Idle again after the answer: the (keep-alive) timeout applies once more.
    expect(await connection.closedWithin(IDLE_MS * 10)).toBe(true);
  });

  it('still closes a socket that never sends a request', async () => {
    const idle = await RawConnection.open(url);
    expect(await idle.closedWithin(IDLE_MS * 10)).toBe(true);
  });

  it('still closes a socket whose answer began and stalled', async () => {
    const stalled = await RawConnection.open(url);
    stalled.write('GET /stalled HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await stalled.until(() => stalled.text.includes('begun'), 5000)).toBe(true);
    expect(await stalled.closedWithin(IDLE_MS * 10)).toBe(true);
  });

  it('still closes a socket whose request headers arrived and whose body stopped', async () => {
    const trickle = await RawConnection.open(url);
    trickle.write('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nab');
    await sleep(10);
    expect(await trickle.closedWithin(IDLE_MS * 10)).toBe(true);
  });
});
