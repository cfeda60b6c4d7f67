import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthService } from '../../auth/auth.service';
import { RequestWithPrincipal } from '../../auth/principal';
import { RateLimiter } from '../../auth/rate-limiter';

/** Momento tokens: `?token=<token>` or `Authorization: <token>` (with or without `Bearer`). */
@Injectable()
export class MomentoAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithPrincipal>();
    const token = momentoToken(request);
    const principal = this.auth.verify(token);
    this.limiter.admit(token!, principal);
    request.principal = principal;
    return true;
  }
}

function momentoToken(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (typeof query.token === 'string' && query.token.length > 0) return query.token;
  const header = request.headers.authorization?.trim();
  if (!header) return undefined;
  return /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : header;
}
