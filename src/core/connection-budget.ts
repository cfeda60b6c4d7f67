import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { HttpEdgeLimits } from '../config/edge';

export type ConnectionBudgetLimits = Pick<HttpEdgeLimits, 'maxConnections' | 'maxConnectionsPerAddress'>;

/**
 * MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS: one budget of open connections that every
 * listener shares (the HTTP server and the RESP listener), so a second listener does not get a
 * second "global" budget. Transport-neutral: a listener asks whether one more connection from
 * an address fits, takes a place for it, and gives the place back once (when the connection
 * closes, or at once when the listener pushes it out). Each listener keeps its own rules on top
 * (anonymous connections, RESP_MAX_CONNECTIONS) and its own words for a refusal.
 */
export class ConnectionBudget {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(readonly limits: ConnectionBudgetLimits) {}

  /** Open connections, every listener together. */
  get open(): number {
    return this.total;
  }

  openFrom(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /** The cap one more connection from `address` would pass (the address's first), or undefined when it fits. */
  over(address: string): 'MAX_CONNECTIONS_PER_ADDRESS' | 'MAX_CONNECTIONS' | undefined {
    if (this.openFrom(address) >= this.limits.maxConnectionsPerAddress) return 'MAX_CONNECTIONS_PER_ADDRESS';
    if (this.total >= this.limits.maxConnections) return 'MAX_CONNECTIONS';
    return undefined;
  }

  /** Counts one connection of `address`; the function returned gives its place back (only the first call counts). */
  take(address: string): () => void {
    this.total++;
    this.byAddress.set(address, this.openFrom(address) + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total--;
      const left = this.openFrom(address) - 1;
      if (left <= 0) this.byAddress.delete(address);
      else this.byAddress.set(address, left);
    };
  }
}

/** Provides the one ConnectionBudget (from the edge's MAX_CONNECTIONS settings) to every module. */
@Global()
@Module({
  providers: [{ provide: ConnectionBudget, useFactory: (config: { edge: ConnectionBudgetLimits }) => new ConnectionBudget(config.edge), inject: [APP_CONFIG] }],
  exports: [ConnectionBudget],
})
export class ConnectionBudgetModule {}
