import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Principal } from '../../auth/principal';
import { TokenAuthGuard } from '../../auth/token-auth.guard';
import { ApiError } from '../errors/api-error';

/**
 * IronCache tokens: `Authorization: OAuth <token>` or `?oauth=<token>` (our JWT). The
 * project id in the path is the token's org; any other project is 403.
 */
@Injectable()
export class IronCacheAuthGuard extends TokenAuthGuard {
  protected extractToken(request: FastifyRequest): string | undefined {
    return ironCacheToken(request);
  }

  protected authorize(principal: Principal, request: FastifyRequest): void {
    const projectId = (request.params as Record<string, string | undefined>).projectId;
    if (projectId !== principal.org) throw new ApiError(403, 'FORBIDDEN', 'this token has no access to that project');
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
