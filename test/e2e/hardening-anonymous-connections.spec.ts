import { RawConnection, sleep } from '../support/raw-socket';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

/**
 * Anonymous clients can never take the slots that authenticated clients and health probes
 * need. Without a token, 4 source addresses holding half-sent headers took all connection
 * slots (800 of 800; 36 of 48 health probes got 503). Connections that carry no authenticated
 * request now have a budget of their own (MAX_ANONYMOUS_CONNECTIONS, a quarter of
 * MAX_CONNECTIONS by default, and MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS); beyond it a new
 * connection takes the place of the oldest idle anonymous one, so a probe or a client with a
 * token always gets in, and connections with an authenticated request are never pushed out.
 */
describe('half-sent headers from several addresses', () => {
  let app: TestApp;
  const open: RawConnection[] = [];
  beforeAll(async () => (app = await startTestApp({ env: { MAX_CONNECTIONS: '40', MAX_CONNECTIONS_PER_ADDRESS: '20' } })));
  afterAll(async () => {
    for (const connection of open) connection.destroy();
    await app.dispose();
  });

  const connect = async (address: string) => {
    const connection = await RawConnection.open(app.url, address);
    open.push(connection);
    return connection;
  };
  /** A request on a fresh connection from `address`: its status. */
  const request = async (address: string, head: string) => {
    const connection = await connect(address);
    connection.write(`${head}host: x\r\nconnection: close\r\n\r\n`);
    return connection.status(5000);
  };

  it('health probes and authenticated requests are served; the anonymous budget holds and authenticated connections stay', async () => {
    // Clients with tokens, holding their connections (event streams) before the attack.
    const streams = [];
    for (let i = 0; i < 5; i++) {
      const stream = await connect('127.0.0.61');
      stream.write(`GET /cacheName/c${i}/events/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tokenFor({ org: 'calm', name: `s${i}` })}\r\n\r\n`);
      expect(await stream.status(5000)).toBe(200);
      streams.push(stream);
    }

    // The attack: 4 addresses, each as many half-sent requests as its per-address cap allows.
    const attack: RawConnection[] = [];
    for (const address of ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']) {
      for (let i = 0; i < 20; i++) {
        const connection = await connect(address);
        connection.write('GET /health/live HTTP/1.1\r\nhost: x\r\n');
        attack.push(connection);
      }
    }
    await sleep(200);
    // Anonymous connections never hold more than their budget (a quarter of 40).
    expect(attack.filter((c) => !c.isClosed).length).toBeLessThanOrEqual(10);

    const probes = [];
    for (let i = 0; i < 12; i++) probes.push(await request('127.0.0.50', 'GET /health/live HTTP/1.1\r\n'));
    expect(probes).toEqual(Array(12).fill(200));
    const token = tokenFor({ org: 'calm', name: 'reader' });
    expect(await request('127.0.0.60', `GET /cacheName/list HTTP/1.1\r\nauthorization: Bearer ${token}\r\n`)).toBe(200);
    expect(await request('127.0.0.60', `GET /1/projects/calm/caches?oauth=${token} HTTP/1.1\r\n`)).toBe(200);

    // The authenticated connections were never pushed out.
    expect(streams.map((s) => s.isClosed)).toEqual([false, false, false, false, false]);
  });

  it('an address over its anonymous share pushes out only its own oldest connection', async () => {
    const mine: RawConnection[] = [];
    for (let i = 0; i < 16; i++) mine.push(await connect('127.0.0.70'));
    const other = await connect('127.0.0.71');
    await sleep(100);
    const newest = await connect('127.0.0.70');
    await sleep(100);
    expect(await mine[0].closedWithin(2000)).toBe(true);
    expect([other.isClosed, newest.isClosed]).toEqual([false, false]);
  });
});

describe('kept-alive anonymous connections of one address over its share', () => {
  let app: TestApp;
  const open: RawConnection[] = [];
  beforeAll(async () => (app = await startTestApp({})));
  afterAll(async () => {
    for (const connection of open) connection.destroy();
    await app.dispose();
  });

  it('never pushes out a kept-alive connection that has just been answered (its client may be sending the next request)', async () => {
    // 16 kept-alive connections from one address, each answered once, then quiet: the address's whole share.
    const pool: RawConnection[] = [];
    const answered = (connection: RawConnection, count: number) => connection.until(() => connection.text.split('HTTP/1.1 200').length > count, 5000);
    for (let i = 0; i < 16; i++) {
      const connection = await RawConnection.open(app.url, '127.0.0.80');
      open.push(connection);
      connection.write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(await answered(connection, 1)).toBe(true);
      pool.push(connection);
    }
    await sleep(1100); // all settled: an over-share connection of this address may take the place of one
    // The oldest is used again, and a new connection arrives just after its answer (a pool growing under load).
    pool[0].write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await answered(pool[0], 2)).toBe(true);
    const newcomer = await RawConnection.open(app.url, '127.0.0.80');
    open.push(newcomer);
    // The one quiet the longest went, not the one just answered, which still serves its next request.
    expect(await pool[1].closedWithin(2000)).toBe(true);
    pool[0].write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await answered(pool[0], 3)).toBe(true);
    expect([pool[0].isClosed, newcomer.isClosed]).toEqual([false, false]);
  });
});
