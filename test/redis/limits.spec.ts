import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { tempDir } from '../support/temp-dir';
import { tokenFor } from '../support/test-app';
import { RawConnection, RedisTestApp, resp, startRedisApp } from './support';

describe('Redis protocol: the same limits as every family', () => {
  it('per-principal rate limit: Redis-style error, nothing written', async () => {
    const app = await startRedisApp({ RATE_LIMITS: 'free=5', RATE_LIMIT_WINDOW_SECONDS: '60' });
    try {
      const r = await app.client('limited', { name: 'busy' });
      const outcomes: string[] = [];
      for (let i = 0; i < 8; i++) outcomes.push(await r.set(`k${i}`, 'v').catch((e: Error) => e.message));
      // At most 5 commands in the window (ioredis' connect-time INFO counts too); then refused.
      expect(outcomes.filter((o) => o === 'OK').length).toBeLessThanOrEqual(5);
      expect(outcomes[7]).toMatch(/^ERR rate limit exceeded: 5 requests per 60 s/);
      // Another principal of the org has its own window, and sees nothing of the refused writes.
      const other = await app.client('limited', { name: 'idle' });
      expect(await other.exists('k7')).toBe(0);
    } finally {
      await app.dispose();
    }
  });

  it('org byte quota: OOM error, nothing written, MULTI/EXEC all or none', async () => {
    const app = await startRedisApp({ ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' });
    try {
      const r = await app.client('quota');
      expect(await r.set('a', 'x'.repeat(60))).toBe('OK');
      await expect(r.set('b', 'x'.repeat(60))).rejects.toThrow(/^OOM /);
      expect(await r.exists('b')).toBe(0);
      const replies = await r.multi().set('c', 'x'.repeat(30)).set('d', 'x'.repeat(30)).exec();
      expect(replies![0]).toEqual([null, 'OK']);
      expect(String(replies![1][0])).toMatch(/OOM/);
      expect(await r.dbsize()).toBe(2);
    } finally {
      await app.dispose();
    }
  });

  it('caches per org: a write that would create one more database is refused', async () => {
    const app = await startRedisApp({ MAX_CACHES_PER_ORG: '2' });
    try {
      const r = await app.client('few');
      await r.set('k', 'v');
      await r.select('second');
      await r.set('k', 'v');
      await r.select('third');
      await expect(r.set('k', 'v')).rejects.toThrow(/MAX_CACHES_PER_ORG/);
      expect(await r.get('k')).toBeNull();
    } finally {
      await app.dispose();
    }
  });

  it('connection caps: beyond RESP_MAX_CONNECTIONS a client hears Redis\'s "max number of clients reached"; anonymous ones make room', async () => {
    const app = await startRedisApp({ RESP_MAX_CONNECTIONS: '4' });
    try {
      const token = tokenFor({ org: 'caps' });
      const open = async () => {
        const raw = await RawConnection.open(app.respPort);
        raw.send(resp('AUTH', token));
        await raw.lines(1);
        return raw;
      };
      const authed = [await open(), await open(), await open()];
      // One anonymous slot (a quarter): a second anonymous connection pushes out the first.
      const anonymous = await RawConnection.open(app.respPort);
      anonymous.send(resp('PING'));
      expect(await anonymous.lines(1)).toBe('-NOAUTH Authentication required.\r\n');
      const newer = await RawConnection.open(app.respPort);
      await anonymous.read(() => anonymous.closed);
      expect(anonymous.closed).toBe(true);
      newer.send(resp('AUTH', token));
      expect(await newer.lines(1)).toBe('+OK\r\n');
      // Four authenticated connections: the fifth is refused with Redis's words.
      const refused = await RawConnection.open(app.respPort);
      expect(await refused.read(() => refused.closed)).toBe('-ERR max number of clients reached\r\n');
      authed[0].close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await open();
      again.send(resp('PING'));
      expect(await again.lines(2)).toBe('+OK\r\n+PONG\r\n');
      for (const raw of [...authed, newer, again]) raw.close();
    } finally {
      await app.dispose();
    }
  });
});

describe('Redis protocol over TLS when the HTTP side has TLS', () => {
  const certs = tempDir('cachelog-resp-tls-');
  let app: RedisTestApp;
  let ca: Buffer;
  beforeAll(async () => {
    const cert = join(certs.path, 'cert.pem');
    const key = join(certs.path, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    app = await startRedisApp({ TLS_CERT: cert, TLS_KEY: key });
  });
  afterAll(async () => {
    await app.dispose();
    certs.cleanup();
  });

  it('serves rediss:// to ioredis, and refuses plain RESP', async () => {
    const client = new Redis({ port: app.respPort, host: '127.0.0.1', password: tokenFor({ org: 'tls' }), tls: { ca, servername: 'localhost' }, lazyConnect: true, retryStrategy: () => null });
    await client.connect();
    expect(await client.set('k', 'over tls')).toBe('OK');
    expect(await client.get('k')).toBe('over tls');
    client.disconnect();
    const plain = await RawConnection.open(app.respPort);
    plain.send(resp('PING'));
    const text = await plain.read(() => plain.closed, 3000);
    expect(text).not.toContain('PONG');
    plain.close();
  });
});
