import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthService } from '../../auth/auth.service';
import { RequestWithPrincipal } from '../../auth/principal';
import { RateLimiter } from '../../auth/rate-limiter';
import { ApiError } from '../errors/api-error';

/**
 * IronCache tokens: `Authorization: OAuth <token>` or `?oauth=<token>` (our JWT). The
 * project id in the path is the token's org; any other project is 403.
 */
@Injectable()
export class IronCacheAuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly limiter: RateLimiter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & RequestWithPrincipal>();
    const token = ironCacheToken(request);
    const principal = this.auth.verify(token);
    const projectId = (request.params as Record<string, string | undefined>).projectId;
    if (projectId !== principal.org) throw new ApiError(403, 'FORBIDDEN', 'this token has no access to that project');
    this.limiter.admit(token!, principal);
    request.principal = principal;
    return true;
  }
}

function ironCacheToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^(?:OAuth|Bearer)\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const query = (request.query ?? {}) as Record<string, unknown>;
  return typeof query.oauth === 'string' && query.oauth.length > 0 ? query.oauth : undefined;
}
