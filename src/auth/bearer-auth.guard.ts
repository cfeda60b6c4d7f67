import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { TokenAuthGuard } from './token-auth.guard';

/** `Authorization: Bearer <JWT>` (the native API). */
@Injectable()
export class BearerAuthGuard extends TokenAuthGuard {
  protected extractToken(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization;
    return header !== undefined && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
  }
}
