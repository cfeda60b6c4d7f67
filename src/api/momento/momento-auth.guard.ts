import { Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { TokenAuthGuard } from '../../auth/token-auth.guard';

/** Momento tokens: `?token=<token>` or `Authorization: <token>` (with or without `Bearer`). */
@Injectable()
export class MomentoAuthGuard extends TokenAuthGuard {
  protected extractToken(request: FastifyRequest): string | undefined {
    return momentoToken(request);
  }
}

function momentoToken(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (typeof query.token === 'string' && query.token.length > 0) return query.token;
  const header = request.headers.authorization?.trim();
  if (!header) return undefined;
  return /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : header;
}
