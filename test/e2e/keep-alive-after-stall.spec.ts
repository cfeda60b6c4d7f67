import { setTimeout as sleep } from 'node:timers/promises';
import { RawConnection } from '../support/raw-socket';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

/**
 * A keep-alive connection whose next request arrived while the event loop was held (a command
 * that appends 100,000 events, a loaded machine) is served, not reset: the server's idle timer
 * fires in the same turn as that request becomes readable, and used to destroy the socket with
 * the request unread (ECONNRESET for the client: a 150k-key restore test polling its task hit
 * it on a busy 2-core machine). An idle connection is still closed by its keep-alive timeout.
 */
describe('keep-alive connections after the event loop was held', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'stall' });
  // Node closes an idle keep-alive socket 1 s after the advertised timeout.
  const KEEP_ALIVE_MS = 1000;
  const SOCKET_TIMEOUT_MS = KEEP_ALIVE_MS + 1000;
  beforeAll(async () => (app = await startTestApp({ env: { KEEP_ALIVE_TIMEOUT_SECONDS: String(KEEP_ALIVE_MS / 1000) } })));
  afterAll(() => app?.dispose());

  const GET = `GET /cacheName/list HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n\r\n`;
  const answers = (connection: RawConnection) => connection.text.split('HTTP/1.1 200 OK').length - 1;
  const hold = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until);
  };

  it('a request sent on an idle connection while the loop is held past its timeout is answered on that connection', async () => {
    const connection = await RawConnection.open(app.url);
    try {
      for (let round = 1; round <= 2; round++) {
        connection.write(GET);
        expect(await connection.until(() => answers(connection) === 2 * round - 1, 5000)).toBe(true);
        // The next request goes out 5 ms into a hold longer than the server's socket timeout.
        const next = sleep(5).then(() => connection.write(GET));
        hold(SOCKET_TIMEOUT_MS + 500);
        await next;
        expect(await connection.until(() => answers(connection) === 2 * round || connection.isClosed, 5000)).toBe(true);
        expect(connection.isClosed).toBe(false);
        expect(answers(connection)).toBe(2 * round);
      }
    } finally {
      connection.socket.destroy();
    }
  });

  it('an idle keep-alive connection is still closed by the server after its timeout', async () => {
    const connection = await RawConnection.open(app.url);
    try {
      connection.write(GET);
      expect(await connection.until(() => answers(connection) === 1, 5000)).toBe(true);
      const answered = Date.now();
      expect(await connection.until(() => connection.isClosed, SOCKET_TIMEOUT_MS + 3000)).toBe(true);
      expect(Date.now() - answered).toBeGreaterThanOrEqual(SOCKET_TIMEOUT_MS - 200);
    } finally {
      connection.socket.destroy();
    }
  });
});
