import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import { JournalConfig, parseRetention } from '../config/journal';
import type { TasksConfig } from '../config/tasks';
import { Clock } from '../config/clock';
import { CacheGateway } from '../core/cache-gateway';
import { requestContext } from '../core/request-context';
import { EntityRegistry } from '../entities/entity-registry';
import { compactEntity } from '../journal/compaction';
import { HistoryGoneError, stateAt } from '../journal/history';
import { withTrailer } from '../journal/export-trailer';
import { Journal } from '../journal/journal';
import { EntityRef } from '../journal/keys';
import { toNdjsonLine } from '../journal/ndjson';
import { SnapshotStore } from '../journal/snapshot-store';
import { InlineReadModels } from '../journal/inline-read-models';
import { ExportLimitError, bytesIn, exportPath, orgExportDir, writeNewFile } from './export-files';
import { TaskAction, TaskRecord } from './task.store';

/** Events of a cache's journal that weigh one unit of task work. */
export const TASK_WORK_EVENTS = 10_000;

/** A failure whose message is the task's `reason`. */
export class TaskFailure extends Error {
  readonly code = 'TASK_FAILED';
}

/** What each task action does. Writes to a cache go through its entity's mailbox. */
@Injectable()
export class TaskActions {
  /** Bytes that running exports have written so far, by org (not yet counted by a directory scan). */
  private readonly exporting = new Map<string, number>();

  constructor(
    private readonly registry: EntityRegistry,
    private readonly gateway: CacheGateway,
    private readonly journal: Journal,
    private readonly snapshots: SnapshotStore,
    private readonly clock: Clock,
    private readonly readModels: InlineReadModels,
    @Inject(APP_CONFIG) private readonly config: TasksConfig & JournalConfig,
  ) {}

  /**
   * What a task on this cache weighs (MAX_PENDING_TASK_WORK_PER_ORG), known without loading
   * it: 1 and one more per TASK_WORK_EVENTS events in its journal. A rebuild, export or restore
   * reads the cache's events or rows and a snapshot encodes its state, each about in
   * proportion; a task on a cache of a few events weighs 1.
   */
  async weigh(ref: EntityRef): Promise<number> {
    return 1 + Math.floor((await this.journal.highestSeq(ref)) / TASK_WORK_EVENTS);
  }

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
    const policy = task.params.retention !== undefined ? parseRetention(task.params.retention) : this.config.retention;
    if (policy === undefined) throw new TaskFailure(`retention "${task.params.retention}" is not "all", "days:N" or "snapshots:K"`);
    const entity = await this.readyEntity(ref);
    // The inline read models applied every event in its own write: nothing is behind.
    await entity.whenDrained();
    const result = await compactEntity(this.journal, this.snapshots, ref, policy, this.clock.now());
    return { retention: task.params.retention ?? formatRetention(policy), ...result };
  }

  /**
   * Makes this cache's rows of the inline read models equal to its committed state (replayed
   * from the journal) and reports whether they were. Only this cache's rows are written, in
   * one write while no append is written: other caches and other orgs never see a partial
   * read model. Rebuilding them whole is the operator's offline `cachelog rebuild`.
   */
  private async rebuild(ref: EntityRef) {
    const entity = await this.readyEntity(ref);
    for (let attempt = 0; ; attempt++) {
      await entity.whenDrained();
      // The rows must reflect exactly the events in the state: retry if a write slipped in.
      const repaired = await this.readModels.repairCache(ref, () => (entity.isIdle ? entity.state : undefined));
      if (repaired !== undefined) {
        const wrong = repaired['key-listing'] + repaired['cache-names'];
        return { projections: Object.keys(repaired), equal: wrong === 0, repairedRows: repaired, seq: entity.seq, keys: entity.state.entries.size };
      }
      if (attempt >= 100) throw new TaskFailure('the cache is written too often to be rebuilt now; try again');
    }
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
      // Through the core's door like any write: restored bytes count against the org's quota (by the submitter's service level).
      const ctx = requestContext({ org: task.org, name: task.by, serviceLevel: task.serviceLevel ?? 'free' }, 'tasks', task.device);
      const reply = await this.gateway.ask(ctx, ref.name, { type: 'RestoreTo', target: state, by: task.by, device: task.device });
      if (!reply.ok) throw new TaskFailure(`${'code' in reply.error ? reply.error.code : 'ERROR'}: ${reply.error.message}`);
      const appended = reply.envelopes.length;
      return { restoredTo: seq, appended, seq: appended > 0 ? reply.envelopes[appended - 1].seq : entity.seq };
    } catch (error) {
      if (error instanceof HistoryGoneError) throw new TaskFailure(error.message);
      throw error;
    }
  }

  /**
   * Writes the cache's events as NDJSON under DATA_DIR/exports (a file name made of hashes,
   * see exportPath). The org's exports on disk, those being written included, stay within
   * MAX_EXPORT_BYTES_PER_ORG: an export that would pass it fails and leaves no file.
   */
  private async export(ref: EntityRef, task: TaskRecord) {
    const entity = await this.readyEntity(ref);
    const { file } = exportPath(ref, task.id);
    const onDisk = await bytesIn(join(this.config.dataDir, orgExportDir(ref.org)));
    let events = 0;
    let throughSeq = 0;
    const journal = this.journal;
    async function* lines() {
      for await (const { seq, event } of journal.replay(ref)) {
        yield toNdjsonLine(ref, seq, event);
        events++;
        throughSeq = seq;
      }
    }
    // Bytes being written by this export count against concurrent exports of the same org.
    let mine = 0;
    const take = (bytes: number) => {
      const writing = this.exporting.get(ref.org) ?? 0;
      if (onDisk + writing + bytes > this.config.maxExportBytesPerOrg) return false;
      this.exporting.set(ref.org, writing + bytes);
      mine += bytes;
      return true;
    };
    try {
      // Ends with the trailer an import requires: a file cut short can never pass as complete.
      const bytes = await writeNewFile(join(this.config.dataDir, file), withTrailer(lines()), take);
      return { file, events, throughSeq, bytes };
    } catch (error) {
      if (error instanceof ExportLimitError) throw new TaskFailure(`${error.code}: ${error.message}`);
      throw error;
    } finally {
      const left = (this.exporting.get(ref.org) ?? 0) - mine;
      if (left > 0) this.exporting.set(ref.org, left);
      else this.exporting.delete(ref.org);
    }
  }
}

function formatRetention(policy: { kind: string; days?: number; count?: number }): string {
  return policy.kind === 'days' ? `days:${policy.days}` : policy.kind === 'snapshots' ? `snapshots:${policy.count}` : 'all';
}
