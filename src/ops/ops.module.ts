import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConnectionReaper } from './connection-reaper';
import { ConsoleController } from './console.controller';
import { HealthController } from './health.controller';
import { LandingController } from './landing.controller';
import { Metrics } from './metrics';
import { MetricsCollectors } from './metrics-collectors';
import { MetricsController } from './metrics.controller';
import { Readiness } from './readiness';

/**
 * What operators and people use, not cache clients: `/`, `/health/*`, `/metrics`, `/console`.
 * These routes take no JWT (metrics have their own token).
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [LandingController, HealthController, MetricsController, ConsoleController],
  providers: [{ provide: Metrics, useFactory: () => new Metrics() }, Readiness, MetricsCollectors, ConnectionReaper],
  exports: [Metrics, Readiness],
})
export class OpsModule {}
