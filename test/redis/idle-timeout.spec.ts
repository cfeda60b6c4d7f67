import { NatsServer, startSingleNats } from '../support/nats-server';
import { RawConnection, RedisTestApp, resp, startRedisApp } from './support';
import { tokenFor } from '../support/test-app';

/**
 * RESP_IDLE_TIMEOUT_SECONDS closes connections with no traffic, not connections whose command
 * is still executing: a SET waiting for a journal that is slow to acknowledge (here a
 * nats-server stopped with SIGSTOP for longer than the timeout) is answered on the same
 * connection. The same class as the HTTP idle timeout (test/int/socket-timeouts.spec.ts).
 */
describe('RESP idle timeout and commands in progress', () => {
  const IDLE_SECONDS = 1;
  let nats: NatsServer;
  let app: RedisTestApp;

  beforeAll(async () => {
    nats = await startSingleNats();
    app = await startRedisApp({ JOURNAL: 'nats', NATS_URL: nats.url, NATS_TIMEOUT_MS: '8000', RESP_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS) });
  });
  afterAll(async () => {
    nats.child.kill('SIGCONT');
    await app?.dispose();
    await nats?.stop();
  });

  it('answers a SET that waits three idle timeouts for the journal, then closes the connection once idle again', async () => {
    const connection = await RawConnection.open(app.respPort);
    connection.send(resp('AUTH', tokenFor({ org: 'acme' })));
    await connection.read((t) => t === '+OK\r\n');
    connection.send(resp('SET', 'k', 'before'));
    await connection.read((t) => t === '+OK\r\n+OK\r\n');

    nats.child.kill('SIGSTOP');
    connection.send(resp('SET', 'k', 'during'));
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 3000));
    expect(connection.closed).toBe(false);
    nats.child.kill('SIGCONT');

    const text = await connection.read((t) => t.length >= 15, 10_000);
    expect(text).toBe('+OK\r\n+OK\r\n+OK\r\n');
    const reader = await app.client('acme');
    expect(await reader.get('k')).toBe('during');

    // Idle again after the reply: the timeout applies once more.
    const deadline = Date.now() + IDLE_SECONDS * 10_000;
    while (!connection.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connection.closed).toBe(true);
  });

  it('still closes a connection that sends nothing', async () => {
    const idle = await RawConnection.open(app.respPort);
    const deadline = Date.now() + IDLE_SECONDS * 10_000;
    while (!idle.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(idle.closed).toBe(true);
  });
});
