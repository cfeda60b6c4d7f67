import { generateKeyPairSync } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { ManualClock } from '../support/manual-clock';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The order of P-256's group: (r, s) and (r, n - s) are both valid ECDSA signatures. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/**
 * Every spelling of one ES256 token that a verifier accepts: the signature's last base64url
 * character carries 2 bits and 4 unused ones (16 spellings), and `s` may be replaced by `n - s`.
 */
function es256Spellings(token: string): string[] {
  const [header, payload, signature] = token.split('.');
  const raw = Buffer.from(signature, 'base64url');
  const r = raw.subarray(0, 32);
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const flipped = Buffer.concat([r, Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex')]);
  const spellings: string[] = [];
  for (const sig of [raw, flipped]) {
    const text = sig.toString('base64url');
    const last = B64URL.indexOf(text[text.length - 1]);
    for (let unused = 0; unused < 16; unused++) {
      spellings.push(`${header}.${payload}.${text.slice(0, -1)}${B64URL[(last & ~0xf) | unused]}`);
    }
  }
  return spellings;
}

describe('rate limits key on the verified principal, never on the token text', () => {
  describe('ES256 (JWT_PUBLIC_KEY)', () => {
    let app: TestApp;
    const clock = new ManualClock();
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sign = (claims: Record<string, unknown>) =>
      new JwtService({}).sign({ serviceLevel: 'free', ...claims }, { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'ES256' });
    beforeAll(
      async () =>
        (app = await startTestApp({
          clock,
          env: { JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(), RATE_LIMITS: 'free=5', RATE_LIMIT_WINDOW_SECONDS: '10' },
        })),
    );
    afterAll(() => app.dispose());

    it('the 32 accepted spellings of one token share one window: 5 admitted, not 160', async () => {
      const spellings = es256Spellings(sign({ org: 'es', name: 'one' }));
      expect(new Set(spellings).size).toBe(32);
      let admitted = 0;
      for (const token of spellings) {
        for (let i = 0; i < 5; i++) {
          const status = (await http(`${app.url}/cacheName/list`, { token })).status;
          expect([200, 429]).toContain(status); // every spelling verifies
          if (status === 200) admitted += 1;
        }
      }
      expect(admitted).toBe(5);
      clock.advance(10_000);
    });

    it('on another family (IronCache, token in ?oauth=) the spellings share the window too', async () => {
      const spellings = es256Spellings(sign({ org: 'es', name: 'iron' }));
      const statuses = [];
      for (const token of spellings.slice(0, 8)) statuses.push((await http(`${app.url}/1/projects/es/caches?oauth=${token}`)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      clock.advance(10_000);
    });

    it('another principal of the same org, or the same name at another service level, has its own window', async () => {
      for (let i = 0; i < 5; i++) expect((await http(`${app.url}/cacheName/list`, { token: sign({ org: 'es', name: 'a' }) })).status).toBe(200);
      expect((await http(`${app.url}/cacheName/list`, { token: sign({ org: 'es', name: 'a' }) })).status).toBe(429);
      expect((await http(`${app.url}/cacheName/list`, { token: sign({ org: 'es', name: 'b' }) })).status).toBe(200);
      expect((await http(`${app.url}/cacheName/list`, { token: sign({ org: 'other', name: 'a' }) })).status).toBe(200);
      expect((await http(`${app.url}/cacheName/list`, { token: sign({ org: 'es', name: 'a', serviceLevel: 'pro' }) })).status).toBe(200);
      clock.advance(10_000);
    });
  });

  describe('HS256 (JWT_SECRET)', () => {
    let app: TestApp;
    const clock = new ManualClock();
    beforeAll(async () => (app = await startTestApp({ clock, env: { RATE_LIMITS: 'free=3', RATE_LIMIT_WINDOW_SECONDS: '10' } })));
    afterAll(() => app.dispose());

    it('tokens minted separately for one principal (other iat, other extra claims) share one window', async () => {
      const tokens = [
        tokenFor({ org: 'hs', name: 'p' }),
        tokenFor({ org: 'hs', name: 'p', jti: 'x' }),
        tokenFor({ org: 'hs', name: 'p' }, { expiresIn: 3600 }),
        tokenFor({ org: 'hs', name: undefined, sub: 'p' }),
      ];
      expect(new Set(tokens).size).toBe(4);
      const statuses = [];
      for (const token of tokens) statuses.push((await http(`${app.url}/cacheName/list`, { token })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      clock.advance(10_000);
    });

    it('Momento (token in ?token=) counts the same principal in the same window as the native API', async () => {
      const statuses = [];
      statuses.push((await http(`${app.url}/cacheName/list`, { token: tokenFor({ org: 'hs', name: 'm' }) })).status);
      statuses.push((await http(`${app.url}/cache/any?key=k&token=${tokenFor({ org: 'hs', name: 'm', jti: '1' })}`)).status);
      statuses.push((await http(`${app.url}/cache/any?key=k&token=${tokenFor({ org: 'hs', name: 'm', jti: '2' })}`)).status);
      statuses.push((await http(`${app.url}/cacheName/list`, { token: tokenFor({ org: 'hs', name: 'm', jti: '3' }) })).status);
      expect(statuses).toEqual([200, 404, 404, 429]);
      clock.advance(10_000);
    });

    it('the SSE per-token cap counts per principal too: separately minted tokens share SSE_MAX_CLIENTS_PER_TOKEN', async () => {
      const other = await startTestApp({ env: { SSE_MAX_CLIENTS_PER_TOKEN: '1' } });
      const controllers: AbortController[] = [];
      try {
        const open = async (token: string) => {
          const controller = new AbortController();
          controllers.push(controller);
          const response = await fetch(`${other.url}/cacheName/s/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
          return response.status;
        };
        expect(await open(tokenFor({ org: 'sse', name: 'p', jti: '1' }))).toBe(200);
        expect(await open(tokenFor({ org: 'sse', name: 'p', jti: '2' }))).toBe(429);
        expect(await open(tokenFor({ org: 'sse', name: 'q' }))).toBe(200);
      } finally {
        for (const controller of controllers) controller.abort();
        await other.dispose();
      }
    });
  });
});
