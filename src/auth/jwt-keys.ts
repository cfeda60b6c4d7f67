import { KeyObject, createPublicKey, createSecretKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Algorithm } from 'jsonwebtoken';
import { AppConfig } from '../config/config';

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

/**
 * HS256 with JWT_SECRET, or RS256/ES256 with JWT_PUBLIC_KEY; with neither, a random secret
 * kept in DATA_DIR (mode 0600), created on first start so a fresh `npm start` is usable.
 */
export function resolveJwtKeys(config: AppConfig): JwtKeys {
  if (config.jwtSecret) {
    const key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
    return { verifyKey: key, signKey: key, algorithms: ['HS256'], generated: false };
  }
  if (config.jwtPublicKey) {
    return { verifyKey: createPublicKey(config.jwtPublicKey), algorithms: ['RS256', 'ES256'], generated: false };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const secretFile = join(config.dataDir, SECRET_FILE);
  let generated = false;
  if (!existsSync(secretFile)) {
    writeFileSync(secretFile, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    generated = true;
  }
  chmodSync(secretFile, 0o600);
  const key = createSecretKey(Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'utf8'));
  return { verifyKey: key, signKey: key, algorithms: ['HS256'], generated, secretFile };
}
