import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isWellFormed } from '../api/validation';
import { APP_CONFIG } from '../config/settings';
import type { AuthConfig } from '../config/auth';
import { Clock } from '../config/clock';
import { JwtKeys } from './jwt-keys';
import { Principal } from './principal';

export const JWT_KEYS = Symbol('JWT_KEYS');

export class AuthError extends Error {
  readonly code = 'UNAUTHORIZED';
}

interface Verdict {
  readonly principal: Principal;
  /** ms since the epoch; Infinity for tokens without `exp`. */
  readonly expiresAt: number;
}

const MAX_CACHED_TOKENS = 10_000;
/** The longest `org` a token may carry, and the longest `name` kept (an import holds events to it too). */
export const MAX_CLAIM_LENGTH = 1024;

/**
 * Verifies each distinct token once and keeps its claims until the token's `exp`, in a
 * bounded map (oldest first out): a signature check per request would cap throughput.
 */
@Injectable()
export class AuthService {
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    private readonly jwt: JwtService,
    @Inject(JWT_KEYS) private readonly keys: JwtKeys,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly clock: Clock,
  ) {}

  verify(token: string | undefined): Principal {
    if (!token) throw new AuthError('a token is required');
    const cached = this.verdicts.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > this.clock.now()) return cached.principal;
      this.verdicts.delete(token);
    }
    let claims: Record<string, unknown>;
    try {
      claims = this.jwt.verify(token, {
        secret: this.keys.verifyKey as never,
        algorithms: this.keys.algorithms,
        issuer: this.config.jwtIssuer,
        clockTimestamp: Math.floor(this.clock.now() / 1000),
      });
    } catch (error) {
      throw new AuthError(`invalid token: ${(error as Error).message}`);
    }
    const principal = toPrincipal(claims);
    const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
    if (this.verdicts.size >= MAX_CACHED_TOKENS) this.verdicts.delete(this.verdicts.keys().next().value!);
    this.verdicts.set(token, { principal, expiresAt });
    return principal;
  }

  /** Mints a token with the configured secret (HS256 only). */
  sign(claims: { org: string; name: string; serviceLevel?: string }, expiresInSeconds?: number): string {
    if (!this.keys.signKey) throw new AuthError('this service verifies with a public key and cannot mint tokens');
    return this.jwt.sign(
      { serviceLevel: 'free', ...claims },
      { secret: this.keys.signKey as never, algorithm: 'HS256', ...(expiresInSeconds ? { expiresIn: expiresInSeconds } : {}), ...(this.config.jwtIssuer ? { issuer: this.config.jwtIssuer } : {}) },
    );
  }
}

function toPrincipal(claims: Record<string, unknown>): Principal {
  const { org, name, serviceLevel, sub, readOnly, operator } = claims;
  if (typeof org !== 'string' || org.length === 0 || org.length > MAX_CLAIM_LENGTH) {
    throw new AuthError('invalid token: the org claim is missing or not a string');
  }
  const who = typeof name === 'string' ? name : typeof sub === 'string' ? sub : 'unknown';
  // The org is part of every entity id and the name of every event: both are stored as UTF-8.
  if (!isWellFormed(org) || !isWellFormed(who)) throw new AuthError('invalid token: the org and name claims must be well-formed Unicode (no lone surrogates)');
  const level = typeof serviceLevel === 'string' && serviceLevel.length > 0 ? serviceLevel : 'free';
  const principal: Principal = { org, name: who.slice(0, MAX_CLAIM_LENGTH), serviceLevel: level, ...(readOnly === true ? { readOnly: true } : {}), ...(operator === true ? { operator: true } : {}) };
  return principal;
}
