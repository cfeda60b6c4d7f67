import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { AuthConfig } from '../config/auth';
import { Clock } from '../config/clock';
import { Principal, principalKey } from './principal';
import { limitForLevel } from './service-level';

export class RateLimitedError extends Error {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly limit: number,
    readonly windowSeconds: number,
    readonly serviceLevel: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`rate limit exceeded: ${limit} requests per ${windowSeconds} s for service level "${serviceLevel}"; retry in ${retryAfterSeconds} s`);
  }
}

interface Window {
  start: number;
  count: number;
}

const MAX_TRACKED_PRINCIPALS = 10_000;

/**
 * Fixed-window request counting per principal (org, name, serviceLevel: see principalKey), with
 * the limit of its `serviceLevel` (RATE_LIMITS; a level without its own limit uses `free`'s).
 * Off when nothing is configured. Every transport calls `admit` after the token is verified;
 * the token's text plays no part, so every token and every spelling of one principal shares
 * one window.
 */
@Injectable()
export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return Object.keys(this.config.rateLimits).length > 0;
  }

  /** Counts one request; throws RateLimitedError when the principal's window is full. */
  admit(principal: Principal): void {
    const limit = limitForLevel(this.config.rateLimits, principal.serviceLevel);
    if (limit === undefined) return;
    const now = this.clock.now();
    const windowMs = this.config.rateLimitWindowMs;
    const key = principalKey(principal);
    let window = this.windows.get(key);
    if (window === undefined || now - window.start >= windowMs) {
      if (window === undefined && this.windows.size >= MAX_TRACKED_PRINCIPALS) this.forgetEnded(now);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= limit) {
      const retryAfter = Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
      throw new RateLimitedError(limit, windowMs / 1000, principal.serviceLevel, retryAfter);
    }
    window.count += 1;
  }

  private forgetEnded(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.config.rateLimitWindowMs) this.windows.delete(key);
    }
    // Still full (every principal is busy this window): drop the oldest.
    if (this.windows.size >= MAX_TRACKED_PRINCIPALS) this.windows.delete(this.windows.keys().next().value!);
  }
}
