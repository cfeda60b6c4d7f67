import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, parseRetention } from '../config/config';
import { Clock } from '../config/clock';
import { EntityRegistry } from '../entities/entity-registry';
import { compactEntity } from '../journal/compaction';
import { HistoryGoneError, stateAt } from '../journal/history';
import { Journal } from '../journal/journal';
import { EntityRef } from '../journal/keys';
import { toNdjsonLine } from '../journal/ndjson';
import { SnapshotStore } from '../journal/snapshot-store';
import { InlineReadModels } from '../journal/inline-read-models';
import { sortedLiveKeys } from '../domain';
import { TaskAction, TaskRecord } from './task.store';

/** A failure whose message is the task's `reason`. */
export class TaskFailure extends Error {
  readonly code = 'TASK_FAILED';
}

/** What each task action does. Writes to a cache go through its entity's mailbox. */
@Injectable()
export class TaskActions {
  constructor(
    private readonly registry: EntityRegistry,
    private readonly journal: Journal,
    private readonly snapshots: SnapshotStore,
    private readonly clock: Clock,
    private readonly readModels: InlineReadModels,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  run(task: TaskRecord): Promise<Record<string, unknown>> {
    const ref = { org: task.org, name: task.cacheName };
    const actions: Record<TaskAction, () => Promise<Record<string, unknown>>> = {
      snapshot: () => this.snapshot(ref),
      compact: () => this.compact(ref, task),
      rebuild: () => this.rebuild(ref),
      restore: () => this.restore(ref, task),
      export: () => this.export(ref, task),
    };
    return actions[task.action]();
  }

  private async readyEntity(ref: EntityRef) {
    const entity = this.registry.entity(ref);
    if (!entity.isReady) await entity.ready;
    return entity;
  }

  /** Snapshots the cache's committed state now (nothing to do if it has no new events). */
  private async snapshot(ref: EntityRef) {
    const entity = await this.readyEntity(ref);
    await entity.whenDrained();
    await entity.snapshot();
    const latest = await this.snapshots.load(ref);
    return { seq: entity.seq, snapshotSeq: latest?.seq ?? 0 };
  }

  /** Drops journal events before a snapshot, as far as the retention allows. */
  private async compact(ref: EntityRef, task: TaskRecord) {
    const policy = task.params.retention !== undefined ? parseRetention(task.params.retention) : (this.config.retention ?? { kind: 'all' as const });
    if (policy === undefined) throw new TaskFailure(`retention "${task.params.retention}" is not "all", "days:N" or "snapshots:K"`);
    const entity = await this.readyEntity(ref);
    // The inline read models applied every event in its own write: nothing is behind.
    await entity.whenDrained();
    const result = await compactEntity(this.journal, this.snapshots, ref, policy, this.clock.now());
    return { retention: task.params.retention ?? formatRetention(policy), ...result };
  }

  /**
   * Rebuilds the inline read models from the journal (whole: their rows are shared by all
   * caches; appends wait meanwhile) and checks that this cache's rows equal its live state.
   */
  private async rebuild(ref: EntityRef) {
    const entity = await this.readyEntity(ref);
    await entity.whenDrained();
    await this.readModels.rebuild();
    const now = this.clock.now();
    const state = entity.state;
    const problems: string[] = [];
    if (state.status === 'live') {
      const rebuilt = await this.readModels.listKeys(ref, now);
      const live = sortedLiveKeys(state, now);
      if (JSON.stringify(rebuilt) !== JSON.stringify(live)) {
        problems.push(`key listing has ${rebuilt.length} keys, the live state ${live.length}`);
      }
    }
    const row = (await this.readModels.listCaches(ref.org, true)).find((r) => r.cacheName === ref.name);
    if (state.status === 'absent' ? row !== undefined : row === undefined || row.deleted !== (state.status === 'deleted') || row.description !== state.description) {
      problems.push(`cache-names row ${JSON.stringify(row)} disagrees with the live state (${state.status})`);
    }
    if (problems.length > 0) throw new TaskFailure(`rebuilt projections differ from the live state: ${problems.join('; ')}`);
    return { projections: ['key-listing', 'cache-names', 'org-bytes', 'expiry-index'], equal: true, seq: entity.seq, keys: state.entries.size };
  }

  /** Appends the events that bring the cache back to its state at `at`/`asOf`. */
  private async restore(ref: EntityRef, task: TaskRecord) {
    const entity = await this.readyEntity(ref);
    await entity.whenDrained();
    const { at, asOf } = task.params;
    try {
      const seq = at !== undefined ? at : await this.journal.seqAtTime(ref, asOf!);
      if (seq > entity.seq) throw new TaskFailure(`at: the cache's newest event is seq ${entity.seq}`);
      const { state } = await stateAt(this.journal, this.snapshots, ref, seq);
      const reply = await this.registry.ask(ref, { type: 'RestoreTo', target: state, by: task.by, device: task.device });
      if (!reply.ok) throw new TaskFailure(`${'code' in reply.error ? reply.error.code : 'ERROR'}: ${reply.error.message}`);
      const appended = reply.envelopes.length;
      return { restoredTo: seq, appended, seq: appended > 0 ? reply.envelopes[appended - 1].seq : entity.seq };
    } catch (error) {
      if (error instanceof HistoryGoneError) throw new TaskFailure(error.message);
      throw error;
    }
  }

  /** Writes the cache's events as NDJSON under DATA_DIR/exports. */
  private async export(ref: EntityRef, task: TaskRecord) {
    const entity = await this.readyEntity(ref);
    const dir = join(this.config.dataDir, 'exports', encodeURIComponent(ref.org));
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${encodeURIComponent(ref.name)}.${task.id}.ndjson`);
    const out = createWriteStream(file, { flags: 'wx' });
    let events = 0;
    let throughSeq = 0;
    try {
      for await (const { seq, event } of this.journal.replay(ref)) {
        if (!out.write(toNdjsonLine(ref, seq, event))) await once(out, 'drain');
        events++;
        throughSeq = seq;
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    return { file: join('exports', encodeURIComponent(ref.org), `${encodeURIComponent(ref.name)}.${task.id}.ndjson`), events, throughSeq };
  }
}

function formatRetention(policy: { kind: string; days?: number; count?: number }): string {
  return policy.kind === 'days' ? `days:${policy.days}` : policy.kind === 'snapshots' ? `snapshots:${policy.count}` : 'all';
}
