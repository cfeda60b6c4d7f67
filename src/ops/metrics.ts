import type { EntityObserver } from '../entities/cache-entity';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FIGURE_KINDS, OrgFigures } from './org-figures';

/** Latency buckets (seconds) from 0.5 ms to 10 s: a durable write is ~1–15 ms here. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * The process's Prometheus metrics, in a registry of their own (not prom-client's global
 * one, so that several apps in one test process do not share counters). The counters and
 * histograms are fed by small hooks where things happen; gauges that are a view of
 * current state (live entities, projection lag, tasks, SSE clients) are read on scrape
 * by `MetricsCollectors`.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'cachelog_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: 'cachelog_http_request_duration_seconds',
    help: 'Time from request to response, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly commitEvents = new Histogram({
    name: 'cachelog_journal_commit_events',
    help: 'Events per group commit (one LevelDB batch)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [this.registry],
  });

  readonly commitSeconds = new Histogram({
    name: 'cachelog_journal_commit_seconds',
    help: 'Time to write one group commit, fsync included (JOURNAL_SYNC=always)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly eventsAppended = new Counter({
    name: 'cachelog_journal_events_total',
    help: 'Events appended to the journal, by event type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly expiries = new Counter({ name: 'cachelog_expiries_total', help: 'Keys expired (Expired events journaled)', registers: [this.registry] });

  readonly evictions = new Counter({ name: 'cachelog_evictions_total', help: 'Keys evicted by a cache capacity (Evicted events journaled)', registers: [this.registry] });

  readonly recoverySeconds = new Histogram({
    name: 'cachelog_entity_recovery_seconds',
    help: 'Time to recover a cache entity (snapshot load plus replay of the tail)',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [this.registry],
  });

  readonly snapshots = new Counter({ name: 'cachelog_snapshots_total', help: 'Entity snapshots written', registers: [this.registry] });

  /**
   * Per-org figures (reads by result, events by kind, commit times): plain counters on the
   * hot path, exposed here with an `org` label at scrape time, and answered to a tenant for
   * its own org by `GET /orgMetrics`.
   */
  readonly orgs = new OrgFigures();

  /** What the cache entities report (recoveries, snapshots). */
  readonly entityObserver: EntityObserver = {
    recovered: (seconds) => this.recoverySeconds.observe(seconds),
    snapshotWritten: () => this.snapshots.inc(),
  };

  constructor(options: { processMetrics?: boolean } = {}) {
    // Process metrics (CPU, memory, event-loop lag, GC) from prom-client itself.
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'cachelog_' });
    const orgs = this.orgs;
    this.orgCounter('cachelog_org_reads_total', 'Reads of a key through the gateway, by org and result (hit, miss)', ['org', 'result'], (counter) => {
      for (const [org, { counts }] of orgs.entries()) {
        counter.inc({ org, result: 'hit' }, counts.hits);
        counter.inc({ org, result: 'miss' }, counts.misses);
      }
    });
    this.orgCounter('cachelog_org_events_total', 'Events journaled, by org and kind (sets, deletes, expiries, evictions, otherEvents)', ['org', 'kind'], (counter) => {
      for (const [org, { counts }] of orgs.entries()) {
        for (const kind of FIGURE_KINDS) if (kind !== 'hits' && kind !== 'misses') counter.inc({ org, kind }, counts[kind]);
      }
    });
    this.orgCounter('cachelog_org_journal_commits_total', 'Group commits holding events of the org', ['org'], (counter) => {
      for (const [org, { commits }] of orgs.entries()) counter.inc({ org }, commits);
    });
    this.orgCounter('cachelog_org_journal_commit_seconds_total', 'Time of the group commits holding events of the org, summed (divide by the commits for the mean)', ['org'], (counter) => {
      for (const [org, { commitSeconds }] of orgs.entries()) counter.inc({ org }, commitSeconds);
    });
  }

  /** A counter whose values are copied from the org figures when Prometheus scrapes. */
  private orgCounter<L extends string>(name: string, help: string, labelNames: readonly L[], read: (counter: Counter<L>) => void): void {
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        read(this);
      },
    });
  }

  /** A gauge whose values are read when Prometheus scrapes. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: (gauge: Gauge<L>) => void | Promise<void>): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await read(this);
      },
    });
  }
}
