import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { ServerConfig } from '../config/server';

export type ReadinessState = 'starting' | 'ready' | 'stopping';

/**
 * Whether the service should get traffic: `starting` until the start-up work (database
 * open, journal tail checked, projections caught up) is done, `ready`, then `stopping`
 * from the moment shutdown begins. `/health/ready` answers 503 unless `ready`.
 */
@Injectable()
export class Readiness implements OnModuleDestroy {
  private current: ReadinessState = 'starting';

  constructor(@Inject(APP_CONFIG) private readonly config: ServerConfig) {}

  get state(): ReadinessState {
    return this.current;
  }

  /** The start-up work is done (AppLifecycle). */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  /** Shutdown began (SIGTERM, or `app.close()`): load balancers should stop sending. */
  markStopping(): void {
    this.current = 'stopping';
  }

  /**
   * The first step of shutdown, before the listener closes: say "not ready", then keep
   * serving for SHUTDOWN_GRACE_SECONDS so that load balancers notice before connections
   * are refused.
   */
  async onModuleDestroy(): Promise<void> {
    this.markStopping();
    const grace = this.config.shutdownGraceMs;
    if (grace > 0) await new Promise((resolve) => setTimeout(resolve, grace));
  }
}
