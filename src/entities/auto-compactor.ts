import { Logger } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { CacheState } from '../domain';
import { compactEntity } from '../journal/compaction';
import { subscribeContained } from '../journal/contained-subscriber';
import { InlineReadModels } from '../journal/inline-read-models';
import { Journal } from '../journal/journal';
import { EntityRef } from '../journal/keys';
import { SnapshotStore } from '../journal/snapshot-store';
import { EntityRegistry } from './entity-registry';

export interface AutoCompactionOptions {
  /** HISTORY_COMPACT_FACTOR: retained journal bytes beyond this many times the live size (0: off). */
  readonly factor: number;
  /** HISTORY_COMPACT_MIN_BYTES: never for a cache whose journal holds less than its live size times the factor plus this. */
  readonly minBytes: number;
  readonly now: () => number;
}

/** About what a live cache weighs in the journal: its values, and each key with its event's framing. */
export const liveJournalBytes = (state: CacheState): number => (state.status === 'live' ? state.bytes + 96 * state.entries.size : 0);

/**
 * Compacts a cache by itself when the history its journal retains grows past a multiple of
 * its live size (HISTORY_COMPACT_FACTOR): a snapshot now, then the events before it that no
 * longer matter are dropped (compactEntity, as the `compact` task with `snapshots:1`), so an
 * org that overwrites within its byte quota never fills its disk budget. One cache at a time,
 * in the background; the journal counts each cache's bytes in its own writes
 * (InlineReadModels.cacheJournalBytesNow: the LevelDB journal in its group commits, each
 * NATS node as it applies the stream; the memory journal counts nothing, and nothing is
 * compacted by itself there). On NATS every node sees every commit: a node weighs the caches
 * it has loaded, and a KV claim lets one node at a time compact a cache.
 */
export class AutoCompactor {
  private readonly logger = new Logger('AutoCompaction');
  private readonly queued = new Map<string, EntityRef>();
  private running: Promise<void> | undefined;
  private subscription: Subscription | undefined;
  private stopping = false;
  /** Compactions done (for tests and the metrics). */
  done = 0;

  constructor(
    private readonly journal: Journal,
    private readonly snapshots: SnapshotStore,
    private readonly registry: EntityRegistry,
    private readonly readModels: InlineReadModels,
    private readonly options: AutoCompactionOptions,
  ) {}

  start(): void {
    if (this.options.factor === 0 || this.subscription !== undefined) return;
    this.subscription = subscribeContained(
      this.journal.liveCommits$,
      {
        name: 'auto-compaction',
        onFailure: 'skip',
        next: (envelopes) => {
          // Each cache of the commit, and whether its last event deletes it.
          const refs = new Map<string, { ref: EntityRef; deleted: boolean }>();
          for (const { ref, entityId, event } of envelopes) refs.set(entityId.toString('latin1'), { ref, deleted: event.type === 'CacheDeleted' });
          // After the entity has applied the commit (its state is then the one to weigh).
          setImmediate(() => {
            for (const [id, { ref, deleted }] of refs) this.check(id, ref, deleted);
          });
        },
      },
      this.logger,
    );
  }

  /** Whether a cache's retained history is past its budget; undefined: not known without I/O. */
  private overBudget(ref: EntityRef, state: CacheState | undefined): boolean | undefined {
    const retained = this.readModels.cacheJournalBytesNow(ref);
    if (retained === undefined || state === undefined) return undefined;
    return retained > this.options.factor * liveJournalBytes(state) + this.options.minBytes;
  }

  private check(id: string, ref: EntityRef, deleted = false): void {
    if (this.stopping || this.queued.has(id)) return;
    const entity = this.registry.loaded(ref);
    // A cache unloaded at once (deleted) is weighed as holding nothing live; one another node
    // wrote and this one has not loaded is left to the nodes that have it.
    const state =
      entity === undefined ? (deleted ? ({ status: 'deleted', bytes: 0, entries: new Map() } as unknown as CacheState) : undefined)
      : entity.isReady ? entity.state
      : undefined;
    if (this.overBudget(ref, state) !== true) return;
    this.queued.set(id, ref);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queued.size > 0 && !this.stopping) {
      const [id, ref] = this.queued.entries().next().value!;
      try {
        await this.compact(ref);
      } catch (error) {
        this.logger.warn(`compacting ${JSON.stringify(ref)} by itself failed: ${(error as Error).message}; tried again after its next write`);
      } finally {
        this.queued.delete(id);
      }
      // Writes went on while it ran: weighed again now, not only at the cache's next write.
      this.check(id, ref);
    }
  }

  private async compact(ref: EntityRef): Promise<void> {
    const entity = this.registry.entity(ref);
    if (!entity.isReady) await entity.ready;
    await entity.whenDrained();
    if (this.overBudget(ref, entity.state) !== true) return;
    // On a shared journal another node may be at it: one at a time (a KV claim), and the
    // one that holds it weighs again after its compaction.
    const release = await this.readModels.claimCompaction(ref);
    if (release === undefined) return;
    let result;
    try {
      await entity.snapshot();
      result = await compactEntity(this.journal, this.snapshots, ref, { kind: 'snapshots', count: 1 }, this.options.now(), undefined, { readModels: this.readModels, claimed: true });
    } finally {
      await release();
    }
    this.done++;
    this.logger.log(`compacted ${JSON.stringify(ref)} by itself through seq ${result.throughSeq}: ${result.dropped} events dropped (its journal held more than HISTORY_COMPACT_FACTOR × its live size)`);
  }

  /** Stops taking caches and waits for the compaction under way. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.subscription?.unsubscribe();
    await this.running;
  }
}
