import { Journal } from '../../src/journal/journal';
import { RawConnection } from '../support/raw-socket';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass (work before authentication): the token is checked in `onRequest`,
 * before a byte of the body is read, on every route of every family. A request that
 * announces a 4 MiB body and sends none of it is answered 401 at once, and the connection
 * is closed rather than read to the end.
 */
const FOUR_MIB = 4 * 1024 * 1024;

const unauthenticated: Array<[string, string, string, string]> = [
  // family, method, path, content type
  ['native fast route', 'POST', '/c/k', 'application/octet-stream'],
  ['native with ttl', 'POST', '/c/k/60', 'application/octet-stream'],
  ['native JSON set', 'POST', '/set', 'application/json'],
  ['native batch', 'POST', '/batch', 'application/json'],
  ['native batch get', 'POST', '/batch/get', 'application/json'],
  ['native names', 'POST', '/cacheName', 'application/json'],
  ['settings', 'PUT', '/cacheName/c/settings', 'application/json'],
  ['tasks', 'POST', '/api/v1/cache/refresh', 'application/json'],
  ['IronCache', 'PUT', '/1/projects/acme/caches/c/items/k', 'application/json'],
  ['IronCache 405 route', 'PATCH', '/1/projects/acme/caches/c/items/k', 'application/json'],
  ['Momento', 'PUT', '/cache/c?key=k&ttl_seconds=60', 'application/octet-stream'],
  ['no such route', 'POST', '/no/such/route/here', 'application/octet-stream'],
];

describe('the token is checked before any body is read, on every route', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp()));
  afterAll(() => app.dispose());

  it.each(unauthenticated)('%s: %s %s with a 4 MiB body announced and none sent is 401 at once, and the connection closes', async (_family, method, path, contentType) => {
    const connection = await RawConnection.open(app.url);
    try {
      connection.write(`${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: ${contentType}\r\ncontent-length: ${FOUR_MIB}\r\n\r\n`);
      expect(await connection.status(5000)).toBe(401);
      expect(connection.text).toMatch(/\r\nconnection: close\r\n/i);
      expect(await connection.closedWithin(5000)).toBe(true);
    } finally {
      connection.destroy();
    }
  });

  it('answers each family in its own error format', async () => {
    const native = await http(`${app.url}/c/k`, { method: 'POST', body: Buffer.from('v') });
    expect(native.status).toBe(401);
    expect(native.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    const iron = await http(`${app.url}/1/projects/acme/caches/c/items/k`, { method: 'PUT', body: { value: 'v' } });
    expect(iron.status).toBe(401);
    expect(iron.json()).toEqual({ msg: expect.any(String) });
    const momento = await http(`${app.url}/cache/c?key=k&ttl_seconds=5`, { method: 'PUT', body: Buffer.from('v') });
    expect(momento.status).toBe(401);
    expect(momento.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('checks the IronCache project before the body too: another org\'s project is 403', async () => {
    const connection = await RawConnection.open(app.url);
    try {
      connection.write(`PUT /1/projects/other/caches/c/items/k HTTP/1.1\r\nhost: x\r\nauthorization: OAuth ${tokenFor({ org: 'acme' })}\r\ncontent-type: application/json\r\ncontent-length: ${FOUR_MIB}\r\n\r\n`);
      expect(await connection.status(5000)).toBe(403);
    } finally {
      connection.destroy();
    }
  });

  it('a 6 MB body of "[" without a token is 401 without being parsed, and another org keeps being answered', async () => {
    const journal = app.app.get(Journal);
    const reader = tokenFor({ org: 'bystander' });
    expect((await http(`${app.url}/b/k`, { method: 'POST', token: reader, body: Buffer.from('v') })).status).toBe(201);
    const before = journal.highestOffset;
    const deep = '['.repeat(6 * 1000 * 1000);
    const attacks = Array.from({ length: 3 }, async () => {
      for (let i = 0; i < 3; i++) {
        const answer = await http(`${app.url}/batch`, { method: 'POST', body: deep, headers: { 'content-type': 'application/json' } }).catch(() => undefined);
        if (answer) expect(answer.status).toBe(401);
      }
    });
    const started = Date.now();
    const read = await http(`${app.url}/b/k`, { token: reader });
    expect(read.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
    await Promise.all(attacks);
    expect(journal.highestOffset).toBe(before);
  });
});
