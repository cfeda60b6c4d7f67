import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors/api-error';
import { APP_CONFIG } from '../config/settings';
import type { MetricsConfig } from '../config/metrics';
import { Metrics } from './metrics';
import { Public } from '../auth/public.decorator';

/**
 * Prometheus text at `/metrics`, on the service's own port, behind its own bearer token
 * (METRICS_TOKEN): the figures span every org, so no tenant's JWT opens them, and one
 * port keeps the container simple. Without METRICS_TOKEN the endpoint is off (404).
 */
@Controller('metrics')
export class MetricsController {
  private readonly token: Buffer | undefined;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: MetricsConfig,
  ) {
    this.token = config.metricsToken === undefined ? undefined : Buffer.from(config.metricsToken, 'utf8');
  }

  @Public()
  @Get()
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (this.token === undefined) throw ApiError.of('METRICS_DISABLED', 'metrics are off: set METRICS_TOKEN to serve them');
    const header = request.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? Buffer.from(header.slice(7), 'utf8') : undefined;
    if (given === undefined || given.length !== this.token.length || !timingSafeEqual(given, this.token)) {
      throw ApiError.of('METRICS_TOKEN_INVALID', 'send Authorization: Bearer <METRICS_TOKEN>');
    }
    await reply.header('content-type', this.metrics.registry.contentType).header('cache-control', 'no-store').send(await this.metrics.registry.metrics());
  }
}
