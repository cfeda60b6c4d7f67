import { generateKeyPairSync } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const SEED_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL3Nlc3Npb24uZmlyZWJhc2UuZ29vZ2xlLmNvbS9ha2thLWNhY2hlIiwib3JnIjoidHRvcmciLCJuYW1lIjoiSm9obiBEb2UiLCJzZXJ2aWNlTGV2ZWwiOiJmcmVlIn0.rds8orVxVz149ovTxxYzFIqGmSdWJUlHONem9avKBgQ';

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('auth: JWT bearer tokens', () => {
  let app: TestApp;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => (app = await startTestApp({ clock })));
  afterAll(() => app.dispose());

  const expect401 = async (headers: Record<string, string>) => {
    const res = await http(`${app.url}/cacheName/list`, { headers });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
  };

  it('accepts a valid token, with or without exp', async () => {
    expect((await http(`${app.url}/cacheName/list`, { token: tokenFor({ org: 'a' }) })).status).toBe(200);
    expect((await http(`${app.url}/cacheName/list`, { token: tokenFor({ org: 'a' }, { expiresIn: 3600 }) })).status).toBe(200);
  });

  it('refuses a missing token, another scheme, garbage, a bad signature, alg none and a token without org', async () => {
    await expect401({});
    await expect401({ authorization: `Basic ${tokenFor({ org: 'a' })}` });
    await expect401({ authorization: 'Bearer not.a.jwt' });
    await expect401({ authorization: `Bearer ${tokenFor({ org: 'a' }, { secret: 'some-other-secret-of-enough-length' })}` });
    await expect401({ authorization: `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ org: 'a', name: 'x' })}.` });
    await expect401({ authorization: `Bearer ${tokenFor({ name: 'no org' })}` });
    await expect401({ authorization: `Bearer ${tokenFor({ org: 42 as unknown as string })}` });
  });

  it('refuses an expired token, also after it was once accepted and cached', async () => {
    const token = tokenFor({ org: 'a', exp: Math.floor(clock.now() / 1000) + 10 });
    expect((await http(`${app.url}/cacheName/list`, { token })).status).toBe(200);
    clock.advance(11_000);
    await expect401({ authorization: `Bearer ${token}` });
    await expect401({ authorization: `Bearer ${tokenFor({ org: 'a', exp: Math.floor(clock.now() / 1000) - 1 })}` });
  });

  it('checks iss when JWT_ISSUER is set', async () => {
    const strict = await startTestApp({ env: { JWT_ISSUER: 'https://issuer.example' } });
    try {
      expect((await http(`${strict.url}/cacheName/list`, { token: tokenFor({ org: 'a', iss: 'https://issuer.example' }) })).status).toBe(200);
      expect((await http(`${strict.url}/cacheName/list`, { token: tokenFor({ org: 'a', iss: 'https://evil.example' }) })).status).toBe(401);
      expect((await http(`${strict.url}/cacheName/list`, { token: tokenFor({ org: 'a' }) })).status).toBe(401);
    } finally {
      await strict.dispose();
    }
  });

  it('refuses the Akka-Cache document\'s example secret (your-256-bit-secret, 19 bytes): its example token cannot be used', async () => {
    await expect(startTestApp({ env: { JWT_SECRET: 'your-256-bit-secret' } })).rejects.toThrow(/JWT_SECRET is 19 bytes; it must be at least 32/);
    // The example token's claims are accepted as such when signed with a real secret.
    const claims = JSON.parse(Buffer.from(SEED_TOKEN.split('.')[1], 'base64url').toString());
    const seeded = await startTestApp();
    try {
      const token = tokenFor(claims);
      expect((await http(`${seeded.url}/seeded/key1`, { method: 'POST', token, body: Buffer.from('hi') })).status).toBe(201);
      expect((await http(`${seeded.url}/seeded/key1`, { token })).text).toBe('hi');
    } finally {
      await seeded.dispose();
    }
  });

  it.each([
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ] as const)('verifies %s tokens with JWT_PUBLIC_KEY and refuses HS256 ones', async (algorithm, makeKeys) => {
    const { publicKey, privateKey } = makeKeys();
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const signed = new JwtService({}).sign({ org: 'pk', name: 'n' }, { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm });
    const pk = await startTestApp({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY: pem } });
    try {
      expect((await http(`${pk.url}/cacheName/list`, { token: signed })).status).toBe(200);
      expect((await http(`${pk.url}/cacheName/list`, { token: tokenFor({ org: 'pk' }) })).status).toBe(401);
    } finally {
      await pk.dispose();
    }
  });
});
