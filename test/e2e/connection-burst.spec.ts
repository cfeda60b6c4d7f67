import { RawConnection } from '../support/raw-socket';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

/**
 * A client that opens many connections at once (a pool warming up, parallel requests) is not
 * an attacker holding half-sent headers: each new connection is anonymous until its first
 * request is authenticated, and none of them may be pushed out by the client's own next ones
 * while its first request is on its way.
 */
describe('a burst of new connections from one address', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it('keeps 60 connections opened at once whose requests come a moment later, and answers each (defaults: 16 anonymous per address)', async () => {
    expect(app.config.edge.maxAnonymousConnectionsPerAddress).toBeLessThan(60);
    const token = tokenFor({ org: 'burst' });
    // Every connection is open before any sends its request: the server sees 60 idle anonymous ones.
    const connections = await Promise.all(Array.from({ length: 60 }, () => RawConnection.open(app.url)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    connections.forEach((connection, i) => connection.write(`POST /c/k${i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\n\r\nv${i % 10}`));
    const statuses = await Promise.all(connections.map(async (connection) => (await connection.status(10_000)) ?? 'closed without an answer'));
    for (const connection of connections) connection.socket.destroy();
    expect(statuses.filter((status) => status !== 201)).toStrictEqual([]);
  });

  it('still pushes out an address’s settled idle connections beyond its share (half-sent headers held for seconds)', async () => {
    const share = app.config.edge.maxAnonymousConnectionsPerAddress;
    const held = await Promise.all(Array.from({ length: share }, () => RawConnection.open(app.url)));
    for (const connection of held) connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const fresh = await RawConnection.open(app.url);
    fresh.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await fresh.status(5000)).toBe(200);
    expect(await held[0].until(() => held[0].isClosed, 5000)).toBe(true);
    for (const connection of [...held, fresh]) connection.socket.destroy();
  });
});
