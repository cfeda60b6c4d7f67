import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Subscription } from 'rxjs';
import { EventStreamService } from '../api/history/event-stream.service';
import { EntityRegistry } from '../entities/entity-registry';
import { subscribeContained } from '../journal/contained-subscriber';
import { Journal } from '../journal/journal';
import { ProjectionRunners } from '../projections/projections.module';
import { TaskStore } from '../tasks/task.store';
import { TaskState } from '../tasks/task.machine';
import { Metrics } from './metrics';

const TASK_STATES: readonly TaskState[] = ['PENDING', 'STARTED', 'SUCCESS', 'FAILURE'];

/**
 * Wires the metrics to the running service without touching its parts: the journal's
 * committed stream feeds event, expiry and eviction counts and commit sizes; gauges read
 * the registry, the projection runners, the task store and the SSE sessions on scrape.
 */
@Injectable()
export class MetricsCollectors implements OnModuleInit, OnModuleDestroy {
  private subscriptions: Subscription[] = [];
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly journal: Journal,
    private readonly tasks: TaskStore,
    private readonly projections: ProjectionRunners,
    private readonly registry: EntityRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const { metrics } = this;
    // A journal times a group commit just before it publishes it (same tick): the time is the
    // commit's that follows, which the per-org figures attribute to the orgs in it.
    let commitSeconds: number | undefined;
    // Counting never ends the process: a commit the metrics cannot count is logged and skipped.
    this.subscriptions.push(
      subscribeContained(this.journal.liveCommits$, {
        name: 'metrics (committed events)',
        onFailure: 'skip',
        next: (envelopes) => {
          const seconds = commitSeconds;
          commitSeconds = undefined;
          metrics.orgs.committed(envelopes, seconds);
          metrics.commitEvents.observe(envelopes.length);
          for (const { event } of envelopes) {
            metrics.eventsAppended.inc({ type: event.type });
            if (event.type === 'Expired') metrics.expiries.inc();
            else if (event.type === 'Evicted') metrics.evictions.inc();
          }
        },
      }),
      subscribeContained(this.journal.commitSeconds$, { name: 'metrics (commit seconds)', onFailure: 'skip', next: (seconds) => {
          commitSeconds = seconds;
          metrics.commitSeconds.observe(seconds);
        },
      }),
    );
    // The per-org rates are measured against this once-a-second sample.
    this.sampler = setInterval(() => metrics.orgs.sample(), 1000);
    this.sampler.unref();

    metrics.gauge('cachelog_journal_offset', 'Global offset of the newest committed event', [], (g) => g.set(this.journal.highestOffset));
    metrics.gauge('cachelog_entities', 'Cache entities in memory, by lifecycle state (recovering, ready, ...)', ['state'], (g) => {
      for (const state of ['recovering', 'ready']) g.set({ state }, 0);
      for (const [state, count] of this.registry.countByLifecycle()) g.set({ state }, count);
    });
    metrics.gauge('cachelog_projection_lag_events', 'Global offset minus the offset each projection has applied', ['projection'], (g) => {
      for (const runner of this.projections.all) g.set({ projection: runner.projection.name }, Math.max(0, this.journal.highestOffset - runner.appliedOffset));
    });
    const { tasks } = this;
    metrics.gauge('cachelog_tasks', 'Background tasks by state (stored, all orgs; with JOURNAL=nats, every node\'s)', ['state'], async (g) => {
      const counts = new Map<string, number>(TASK_STATES.map((state) => [state, 0]));
      try {
        for await (const task of tasks.all()) counts.set(task.state, (counts.get(task.state) ?? 0) + 1);
      } catch {
        return; // storage not readable now (closed, or healing): no task figures in this scrape
      }
      for (const [state, count] of counts) g.set({ state }, count);
    });
    const streams = this.optional<EventStreamService>(EventStreamService);
    metrics.gauge('cachelog_sse_clients', 'Open Server-Sent-Events history streams', [], (g) => g.set(streams?.openSessions ?? 0));
  }

  onModuleDestroy(): void {
    clearInterval(this.sampler);
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  private optional<T>(token: unknown): T | undefined {
    try {
      return this.moduleRef.get<T>(token as never, { strict: false });
    } catch {
      return undefined;
    }
  }
}
