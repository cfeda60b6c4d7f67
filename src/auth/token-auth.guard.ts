import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AuthError } from './auth.service';

/**
 * Lets a request through when the edge authenticated it (HttpEdge, in `onRequest`: token,
 * family rules and rate limit, before the body was read). Nothing is verified here: a route
 * without a principal is a route the edge treats as public, and a guarded route must not be.
 */
@Injectable()
export class TokenAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!context.switchToHttp().getRequest<FastifyRequest>().principal) throw new AuthError('a token is required');
    return true;
  }
}
