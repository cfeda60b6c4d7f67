import { KeyObject, createPublicKey, createSecretKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Algorithm } from 'jsonwebtoken';
import { ConfigError } from '../config/settings';
import { AuthConfig, MIN_JWT_SECRET_BYTES } from '../config/auth';
import type { JournalConfig } from '../config/journal';

export interface JwtKeys {
  /** A KeyObject, not a string: jsonwebtoken would re-derive a string secret on every call. */
  readonly verifyKey: KeyObject;
  /** Present when this service can mint tokens (HMAC secret). */
  readonly signKey?: KeyObject;
  readonly algorithms: Algorithm[];
  /** True when the secret was generated on this start (no secret was configured or stored). */
  readonly generated: boolean;
  readonly secretFile?: string;
}

export const SECRET_FILE = 'jwt-secret';

/** No secret is configured and DATA_DIR holds none, and the caller may not create one (the token command). */
export class NoJwtSecretError extends Error {
  constructor(readonly secretFile: string) {
    super(`no JWT_SECRET or JWT_PUBLIC_KEY is set and there is no ${secretFile}`);
  }
}

/**
 * HS256 with JWT_SECRET, or RS256/ES256 with JWT_PUBLIC_KEY; with neither, a random secret
 * kept in DATA_DIR (mode 0600), created on the server's first start (`create`) so a fresh
 * `npm start` is usable. Anything else that signs (the token command) only reads it: a secret
 * it created would be one no server knows.
 */
export function resolveJwtKeys(config: AuthConfig & Pick<JournalConfig, 'dataDir'>, options: { create: boolean } = { create: true }): JwtKeys {
  if (config.jwtSecret) {
    const key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
    return { verifyKey: key, signKey: key, algorithms: ['HS256'], generated: false };
  }
  if (config.jwtPublicKey) {
    return { verifyKey: createPublicKey(config.jwtPublicKey), algorithms: ['RS256', 'ES256'], generated: false };
  }
  const secretFile = join(config.dataDir, SECRET_FILE);
  let generated = false;
  if (!existsSync(secretFile)) {
    if (!options.create) throw new NoJwtSecretError(secretFile);
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(secretFile, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    generated = true;
  }
  if (options.create) chmodSync(secretFile, 0o600);
  const secret = Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'utf8');
  if (secret.length < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(`invalid configuration: ${secretFile} holds ${secret.length} bytes; an HS256 secret must be at least ${MIN_JWT_SECRET_BYTES} (delete the file to have a new one made on start)`);
  }
  const key = createSecretKey(secret);
  return { verifyKey: key, signKey: key, algorithms: ['HS256'], generated, secretFile };
}
