import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthError } from './auth.service';
import { isPublicRoute } from './public.decorator';

/**
 * The one auth guard (`APP_GUARD`) of every Nest route. The token was verified by the edge
 * (HttpEdge, in `onRequest`: the family's token source, its rules and the rate limit, before
 * the body was read), once per request; this guard verifies nothing again, it only refuses a
 * route that is not `@Public()` and has no principal, so no route can be left open by mistake.
 */
@Injectable()
export class TokenAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!request.principal && !isPublicRoute(request.routeOptions.config)) throw new AuthError('a token is required');
    return true;
  }
}
