import { mkdir, rename, rm, statfs } from 'node:fs/promises';
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
import { BackupLimitError, JournalBackend } from '../journal/journal-backend';
import { ExportLimitError, PARTIAL_SUFFIX, backupPath, bytesIn, exportPath, isBackupOrPartial, orgExportDir, writeNewFile } from './export-files';
import { TaskAction, TaskRecord, TaskRequest, readableTaskRecord } from './task.store';

/** Events of a cache's journal that weigh one unit of task work. */
export const TASK_WORK_EVENTS = 10_000;

/** Journal bytes a backup reads per unit of task work: about TASK_WORK_EVENTS small events. */
export const BACKUP_WORK_BYTES = 2 << 20;

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
    private readonly backend: JournalBackend,
    @Inject(APP_CONFIG) private readonly config: TasksConfig & JournalConfig,
  ) {}

  /** Whether this service can take backups (the embedded LevelDB journal only). */
  get canBackup(): boolean {
    return this.backend.onlineBackup !== undefined;
  }

  /**
   * What a request weighs: a task on a cache as `weigh` says; a backup 1 and one more per
   * BACKUP_WORK_BYTES of the journal it copies (the org's, or the whole instance's).
   */
  async weighRequest(request: TaskRequest): Promise<number> {
    if (request.action !== 'backup') return this.weigh({ org: request.org, name: request.cacheName });
    const bytes = request.params.scope === 'instance' ? this.readModels.totalJournalBytesNow() : await this.readModels.journalBytes(request.org);
    return 1 + Math.floor((bytes ?? 0) / BACKUP_WORK_BYTES);
  }

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
      backup: () => this.backup(task),
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
    const result = await compactEntity(this.journal, this.snapshots, ref, policy, this.clock.now(), undefined, { readModels: this.readModels });
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
  /**
   * Writes a backup of the org's caches (or, `scope: instance`, of the whole instance) while the
   * service goes on serving: one LevelDB snapshot read in slices (see online-backup.ts), written
   * as `<file>.partial` and renamed once complete. An org's file counts against
   * MAX_EXPORT_BYTES_PER_ORG with its exports; every backup first needs room on the file system
   * for at least the journal it copies. Backup tasks and files are never in a backup.
   */
  private async backup(task: TaskRecord) {
    const write = this.backend.onlineBackup;
    if (write === undefined) throw new TaskFailure('backups are taken of the embedded LevelDB journal only (JOURNAL=leveldb)');
    const scope = task.params.scope ?? 'org';
    const org = scope === 'org' ? task.org : undefined;
    const { dir, file } = backupPath(task.org, scope, task.id);
    const estimate = (org === undefined ? this.readModels.totalJournalBytesNow() : await this.readModels.journalBytes(org)) ?? 0;
    const fs = await statfs(this.config.dataDir);
    const free = fs.bavail * fs.bsize;
    if (estimate > free) throw new TaskFailure(`ENOSPC: the file system has ${free} bytes free and the backup needs at least ${estimate}`);

    const orgDir = orgExportDir(task.org).split('\\').join('/') + '/';
    const keepTask = (value: Buffer) => {
      const record = readableTaskRecord(value);
      if (record === undefined) return org === undefined; // unreadable: as stored, in the instance's only
      return record.action !== 'backup' && (org === undefined || record.org === org);
    };
    const keepFile = (path: string) => !isBackupOrPartial(path) && (org === undefined || path.startsWith(orgDir));

    const onDisk = org === undefined ? 0 : await bytesIn(join(this.config.dataDir, orgExportDir(task.org)));
    let mine = 0;
    const take = (bytes: number) => {
      if (org === undefined) return true;
      const writing = this.exporting.get(task.org) ?? 0;
      if (onDisk + writing + bytes > this.config.maxExportBytesPerOrg) return false;
      this.exporting.set(task.org, writing + bytes);
      mine += bytes;
      return true;
    };
    const path = join(this.config.dataDir, file);
    const partial = path + PARTIAL_SUFFIX;
    await mkdir(join(this.config.dataDir, dir), { recursive: true });
    try {
      const counts = await write(this.config.dataDir, partial, { org, keepTask, keepFile, take });
      await rename(partial, path);
      return { file, scope, ...counts };
    } catch (error) {
      await rm(partial, { force: true }).catch(() => undefined);
      if (error instanceof BackupLimitError) throw new TaskFailure(`EXPORT_LIMIT_EXCEEDED: the backup would pass the org's limit of export bytes on disk (MAX_EXPORT_BYTES_PER_ORG)`);
      throw error;
    } finally {
      const left = (this.exporting.get(task.org) ?? 0) - mine;
      if (left > 0) this.exporting.set(task.org, left);
      else this.exporting.delete(task.org);
    }
  }
}

function formatRetention(policy: { kind: string; days?: number; count?: number }): string {
  return policy.kind === 'days' ? `days:${policy.days}` : policy.kind === 'snapshots' ? `snapshots:${policy.count}` : 'all';
}
