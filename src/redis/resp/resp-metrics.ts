import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RespCounters } from './resp-counters';

const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * Per-command metrics of the Redis protocol, in the process's registry: calls, errors and
 * latency by command (known commands only, so a client cannot grow the label set), and the
 * connected clients.
 */
export class RespMetrics {
  private readonly calls: Counter<'command'>;
  private readonly errors: Counter<'command'>;
  private readonly seconds: Histogram<'command'>;

  constructor(registry: Registry, counters: RespCounters) {
    this.calls = new Counter({ name: 'cachelog_redis_commands_total', help: 'Redis protocol commands answered, by command', labelNames: ['command'], registers: [registry] });
    this.errors = new Counter({ name: 'cachelog_redis_command_errors_total', help: 'Redis protocol commands answered with an error, by command', labelNames: ['command'], registers: [registry] });
    this.seconds = new Histogram({
      name: 'cachelog_redis_command_duration_seconds',
      help: 'Time from a command being read to its reply being ready (a write: durable), by command',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    new Gauge({
      name: 'cachelog_redis_connected_clients',
      help: 'Open Redis protocol connections',
      registers: [registry],
      collect() {
        this.set(counters.openConnections);
      },
    });
  }

  observe(command: string, seconds: number, failed: boolean): void {
    this.calls.inc({ command });
    if (failed) this.errors.inc({ command });
    this.seconds.observe({ command }, seconds);
  }
}
