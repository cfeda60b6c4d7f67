import { Writable } from 'node:stream';
import { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/config';
import { redactUrl } from '../../src/ops/logging';
import { spawn } from 'node:child_process';
import { freePort } from '../support/free-port';
import { MAIN, startService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { TEST_SECRET, TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** Every log line the app writes, parsed. */
class CapturedLog extends Writable {
  text = '';
  constructor() {
    super({ decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  get lines(): Array<Record<string, any>> {
    return this.text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line));
  }
}

describe('logs: JSON lines, one per request, no secrets', () => {
  let app: TestApp;
  const log = new CapturedLog();
  const token = tokenFor({ org: 'logs', name: 'Ann' });
  // A value that must never appear in a log line either.
  const secretValue = 'the-cached-value-that-stays-private';

  beforeAll(async () => (app = await startTestApp({ logger: ['log', 'error', 'warn'], logDestination: log })));
  afterAll(() => app.dispose());

  it('writes one JSON line per request with a request id, method, URL pattern-free path, status and time', async () => {
    const before = log.lines.length;
    expect((await http(`${app.url}/logcache/k1`, { method: 'POST', token, body: Buffer.from(secretValue), headers: { 'x-request-id': 'req-abc.123' } })).status).toBe(201);
    const lines = log.lines.slice(before).filter((line) => line.msg === 'request completed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, service: 'cachelog', reqId: 'req-abc.123', req: { method: 'POST', url: '/logcache/k1' }, res: { statusCode: 201 } });
    expect(typeof lines[0].responseTime).toBe('number');
    expect(typeof lines[0].time).toBe('string');
  });

  it('gives each request its own id when the client sends none (or an unsafe one)', async () => {
    const before = log.lines.length;
    await http(`${app.url}/health/live`);
    await http(`${app.url}/health/live`, { headers: { 'x-request-id': 'bad id with spaces {}' } });
    const ids = log.lines.slice(before).filter((line) => line.msg === 'request completed').map((line) => line.reqId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs a token (Authorization header, Momento ?token=, IronCache ?oauth=) or a value', async () => {
    await http(`${app.url}/logcache/k1`, { token });
    await http(`${app.url}/cache/logcache?key=k1&token=${token}`);
    await http(`${app.url}/cache/logcache?key=k1&%74oken=${token}`);
    await http(`${app.url}/1/projects/logs/caches/logcache/items/k1?oauth=${token}`);
    await http(`${app.url}/1/projects/logs/caches/logcache/items/k1`, { headers: { authorization: `OAuth ${token}` } });
    await http(`${app.url}/cache/logcache?key=k1`, { headers: { authorization: token } });
    // Failures too: a bad token, an unknown route, a bad body.
    await http(`${app.url}/cache/logcache?key=k1&token=${token}x`);
    await http(`${app.url}/nowhere/at/all?token=${token}`);
    await http(`${app.url}/set`, { method: 'POST', token, body: '{not json', headers: { 'content-type': 'application/json' } });

    const lines = log.lines;
    expect(lines.filter((line) => line.msg === 'request completed').length).toBeGreaterThanOrEqual(9);
    const signature = token.split('.')[2];
    expect(log.text).not.toContain(signature);
    expect(log.text).not.toContain(token.split('.')[1]);
    expect(log.text).not.toContain(secretValue);
    expect(log.text).toContain('token=[REDACTED]');
    expect(log.text).toContain('oauth=[REDACTED]');
    expect(log.text).not.toMatch(/authorization/i);
  });
});

describe('logs: LOG_LEVEL', () => {
  it('at warn, requests are not logged; at info they are', async () => {
    for (const [level, expected] of [['warn', 0], ['info', 1]] as const) {
      const log = new CapturedLog();
      const dir = tempDir();
      const app = await createApp(loadConfig({ DATA_DIR: dir.path, JWT_SECRET: TEST_SECRET, LOG_LEVEL: level }), { logDestination: log });
      try {
        await app.listen(0, '127.0.0.1');
        const address = app.getHttpServer().address() as AddressInfo;
        expect((await http(`http://127.0.0.1:${address.port}/health/live`)).status).toBe(200);
        expect(log.lines.filter((line) => line.msg === 'request completed')).toHaveLength(expected);
      } finally {
        await app.close();
        dir.cleanup();
      }
    }
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
  });
});

describe('logs: stdout of the production build', () => {
  it('buffers JSON lines but writes them within a moment, and every line by a clean stop (LOG_BUFFER_BYTES)', async () => {
    const dir = tempDir();
    const service = await startService(dir.path, { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    try {
      const requests = () => service.output().split('\n').filter((line) => line.includes('"request completed"')).length;
      // Three lines are far below the 4 KiB buffer: only the periodic flush writes them.
      for (let i = 0; i < 3; i++) expect((await http(`${service.url}/health/live`)).status).toBe(200);
      for (const until = Date.now() + 5000; requests() < 3 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(requests()).toBe(3);
      for (let i = 0; i < 3; i++) await http(`${service.url}/health/live`);
      service.child.kill('SIGTERM');
      await service.exited;
      expect(requests()).toBe(6);
      expect(service.output()).toContain('database closed');
      for (const line of service.output().split('\n').filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      service.child.kill('SIGKILL');
      dir.cleanup();
    }
    expect(() => loadConfig({ LOG_BUFFER_BYTES: '2000000' })).toThrow(/LOG_BUFFER_BYTES must be at most 1048576/);
    expect(loadConfig({ LOG_BUFFER_BYTES: '0' }).logBufferBytes).toBe(0);
  });
});

describe('logs: a stdout nobody reads', () => {
  it('neither stalls the service nor holds its memory: lines beyond LOG_MAX_PENDING_BYTES drop, and a line counts them once stdout is read again', async () => {
    const dir = tempDir();
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, DATA_DIR: dir.path, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info', LOG_FORMAT: 'json', LOG_BUFFER_BYTES: '1024', LOG_MAX_PENDING_BYTES: '65536' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      child.stdout!.pause(); // nobody reads: the pipe fills, then the log's own 64 KiB
      const url = `http://127.0.0.1:${port}`;
      for (let up = false; !up; ) up = await fetch(`${url}/health/live`).then((r) => r.ok, () => false);
      // About 500 KB of request lines, several times what the pipe and the buffer hold.
      const statuses: number[] = [];
      for (let round = 0; round < 100; round++) {
        statuses.push(...(await Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/health/live`).then(async (r) => (await r.text(), r.status))))));
      }
      expect(statuses.filter((status) => status !== 200)).toStrictEqual([]);
      let out = '';
      child.stdout!.on('data', (chunk) => (out += chunk));
      child.stdout!.resume();
      const said = () => /stdout did not take (\d+) log lines in time \(LOG_MAX_PENDING_BYTES\)/.exec(out);
      for (const until = Date.now() + 10_000; said() === null && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(Number(said()?.[1])).toBeGreaterThan(0);
      for (const line of out.split('\n').filter((l) => l.length > 0)) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      child.kill('SIGKILL');
      await exited;
      dir.cleanup();
    }
    expect(() => loadConfig({ LOG_MAX_PENDING_BYTES: '1000' })).toThrow(/LOG_MAX_PENDING_BYTES must be a whole number >= 65536/);
  });
});

describe('redactUrl', () => {
  it('keeps the path and harmless parameters and hides credential values, however the name is encoded', () => {
    expect(redactUrl('/cache/c?key=k&token=abc')).toBe('/cache/c?key=k&token=[REDACTED]');
    expect(redactUrl('/x?OAUTH=abc&ttl_seconds=3')).toBe('/x?OAUTH=[REDACTED]&ttl_seconds=3');
    expect(redactUrl('/x?%74oken=abc')).toBe('/x?token=[REDACTED]');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });
});
