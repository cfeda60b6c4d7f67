import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthService } from './auth.service';
import { RequestWithPrincipal } from './principal';
import { RateLimiter } from './rate-limiter';

/** `Authorization: Bearer <JWT>` (the native API). */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithPrincipal>();
    const header = request.headers.authorization;
    const token = header !== undefined && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    request.principal = this.auth.verify(token);
    this.limiter.admit(token!, request.principal);
    return true;
  }
}
