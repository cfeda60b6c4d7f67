import { ConfigError, Values, namespace, optionalText, seconds, setting } from './settings';

/** The shortest HS256 secret accepted (JWT_SECRET or DATA_DIR/jwt-secret): 256 bits, as RFC 7518 requires. */
export const MIN_JWT_SECRET_BYTES = 32;

/** Tokens (who may call) and rate limits (how often). */
export const authSettings = namespace('auth', {
  jwtSecret: setting('JWT_SECRET', optionalText(), 'HS256 secret (32+ bytes); with no JWT_PUBLIC_KEY either, one is created in DATA_DIR/jwt-secret'),
  jwtPublicKey: setting('JWT_PUBLIC_KEY', optionalText(), 'PEM public key: tokens are RS256 or ES256 (\\n escapes allowed)'),
  jwtIssuer: setting('JWT_ISSUER', optionalText(), "when set, a token's iss must equal it"),
  rateLimits: setting('RATE_LIMITS', optionalText(), 'requests per window per principal by serviceLevel, e.g. free=100,pro=1000 (unset: off)', {
    derivedDefault: 'read into a table by serviceLevel (authConfig); unset: {} (no rate limit)',
  }),
  rateLimitWindowMs: setting('RATE_LIMIT_WINDOW_SECONDS', seconds(1, 1), 'the rate-limit window'),
});

/** The rules between the token settings, and RATE_LIMITS read into a table. */
export function authConfig(values: Values<typeof authSettings.declaration>) {
  const { jwtSecret, jwtPublicKey } = values;
  if (jwtSecret && jwtPublicKey) throw new ConfigError('invalid configuration: set JWT_SECRET or JWT_PUBLIC_KEY, not both');
  if (jwtSecret && Buffer.byteLength(jwtSecret, 'utf8') < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(
      `invalid configuration: JWT_SECRET is ${Buffer.byteLength(jwtSecret, 'utf8')} bytes; it must be at least ${MIN_JWT_SECRET_BYTES} ` +
        '(HS256 signs with a 256-bit key; a short secret can be guessed offline from any token). Make one with: openssl rand -base64 48',
    );
  }
  if (jwtPublicKey && !jwtPublicKey.includes('-----BEGIN')) {
    throw new ConfigError('invalid configuration: JWT_PUBLIC_KEY must be a PEM public key');
  }
  return {
    ...values,
    jwtPublicKey: jwtPublicKey?.replace(/\\n/g, '\n'),
    /** Requests per window and principal, by the token's `serviceLevel`; empty: no rate limit. */
    rateLimits: parseRateLimits(values.rateLimits),
  };
}

export type AuthConfig = ReturnType<typeof authConfig>;

/** `RATE_LIMITS="free=100,pro=1000"`: requests per window (RATE_LIMIT_WINDOW_SECONDS) per token. */
function parseRateLimits(raw: string | undefined): Readonly<Record<string, number>> {
  const entries: Array<[string, number]> = [];
  for (const part of (raw ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const match = /^([^=\s]+)\s*=\s*(\d+)$/.exec(part);
    if (!match || !Number.isSafeInteger(Number(match[2])) || Number(match[2]) < 1) {
      throw new ConfigError(`invalid configuration: RATE_LIMITS must look like "free=100,pro=1000" (requests >= 1), got "${part}"`);
    }
    entries.push([match[1], Number(match[2])]);
  }
  // fromEntries defines own properties, so even a level named "__proto__" is just a key.
  return Object.fromEntries(entries);
}
