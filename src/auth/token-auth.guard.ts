import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthService } from './auth.service';
import { Principal, RequestWithPrincipal } from './principal';
import { RateLimiter } from './rate-limiter';

/**
 * Verifies the request's token once, applies the token's rate limit and attaches the
 * principal. API families differ only in where the token travels (`extractToken`) and in
 * what else a principal must satisfy (`authorize`).
 */
@Injectable()
export abstract class TokenAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
  ) {}

  protected abstract extractToken(request: FastifyRequest): string | undefined;

  /** Throws when the principal may not make this request; nothing by default. */
  protected authorize(_principal: Principal, _request: FastifyRequest): void {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithPrincipal>();
    request.principal = this.authenticate(request);
    return true;
  }

  /** The caller of this request, or an AuthError / ApiError / RateLimitedError. */
  authenticate(request: FastifyRequest): Principal {
    const token = this.extractToken(request);
    const principal = this.auth.verify(token);
    this.authorize(principal, request);
    this.limiter.admit(token!, principal);
    return principal;
  }
}
