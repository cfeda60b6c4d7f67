import { Subscription } from 'rxjs';
import { Logger } from '@nestjs/common';
import { CacheCommand, CacheEvent, CacheState } from '../domain';
import { DueExpiry } from '../journal/inline-read-models';
import { StorageUnavailableError } from '../journal/storage-fault';
import { EntityRef } from '../journal/keys';
import { AskOptions, CacheEntity, EntityContext, Reply } from './cache-entity';

/** A read asked for a seq (`minSeq`) the cache has not reached in the journal. */
export class SeqNotReachedError extends Error {
  readonly code = 'MIN_SEQ_NOT_REACHED';
  constructor(
    readonly wanted: number,
    readonly current: number,
  ) {
    super(`minSeq ${wanted}: the cache is at seq ${current} in the journal`);
  }
}

export interface RegistryOptions {
  readonly idleMs: number;
  /** A shared journal: how long a `minSeq` read waits for the follower before catching up from the journal. */
  readonly readWaitMs?: number;
}

/**
 * Finds or recovers the entity of an (org, cacheName). Orgs and names are kept in nested
 * maps, never in a concatenated string, so tenants cannot collide.
 */
export class EntityRegistry {
  private readonly logger = new Logger('EntityRegistry');
  private readonly byOrg = new Map<string, Map<string, CacheEntity>>();
  /** Writes made for caches that are not loaded (due expiries); their entities recover after them. */
  private readonly unloadedWrites = new Map<string, Map<string, Promise<void>>>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopping = false;
  private following: Subscription | undefined;

  constructor(
    private readonly ctx: EntityContext,
    private readonly options: RegistryOptions,
  ) {
    const every = Math.max(1000, Math.min(options.idleMs / 2, 30_000));
    this.sweeper = setInterval(() => this.passivateIdle(), every);
    this.sweeper.unref();
  }

  entity(ref: EntityRef): CacheEntity {
    let names = this.byOrg.get(ref.org);
    if (names === undefined) this.byOrg.set(ref.org, (names = new Map()));
    let entity = names.get(ref.name);
    if (entity === undefined || entity.lifecycle === 'failed') {
      entity = new CacheEntity(ref, this.ctx, this.unloadedWrites.get(ref.org)?.get(ref.name));
      names.set(ref.name, entity);
    }
    return entity;
  }

  ask(ref: EntityRef, command: CacheCommand, options?: AskOptions): Promise<Reply> {
    return this.entity(ref).ask(command, options);
  }

  /** The committed state of a cache, recovering its entity if needed. */
  async state(ref: EntityRef): Promise<CacheState> {
    const entity = this.entity(ref);
    if (!entity.isReady) {
      try {
        await entity.ready;
      } catch (error) {
        throw new StorageUnavailableError(error);
      }
    }
    entity.lastTouched = this.ctx.now();
    return entity.state;
  }

  /**
   * The committed state of a cache: synchronously when its entity is ready (the GET hot
   * path pays no promise), else a promise that resolves once it has recovered.
   */
  stateNow(ref: EntityRef): CacheState | Promise<CacheState> {
    const names = this.byOrg.get(ref.org);
    const entity = names?.get(ref.name);
    if (entity !== undefined && entity.isReady) {
      entity.lastTouched = this.ctx.now();
      return entity.state;
    }
    return this.state(ref);
  }

  /** `stateNow` for the entity itself (reads that count as use go through it). */
  entityNow(ref: EntityRef): CacheEntity | Promise<CacheEntity> {
    const entity = this.byOrg.get(ref.org)?.get(ref.name);
    if (entity !== undefined && entity.isReady) {
      entity.lastTouched = this.ctx.now();
      return entity;
    }
    return this.state(ref).then(() => this.entity(ref));
  }

  /** True when the cache's entity is in memory, recovered and live (no I/O). */
  isLiveNow(ref: EntityRef): boolean {
    const entity = this.byOrg.get(ref.org)?.get(ref.name);
    return entity !== undefined && entity.isReady && entity.state.status === 'live';
  }

  /** The entity of a cache if it is in memory (recovering or ready), without loading it. */
  loaded(ref: EntityRef): CacheEntity | undefined {
    const entity = this.byOrg.get(ref.org)?.get(ref.name);
    return entity === undefined || entity.lifecycle === 'failed' ? undefined : entity;
  }

  /**
   * Journals `Expired` for due entries found in the journal's expiry index. A loaded cache
   * decides through its mailbox; for one that is not loaded the events are appended
   * directly (the index and the key rows are written together, so a due row names a key
   * that is there and expired), and an entity created meanwhile recovers after that write.
   * Returns how many keys were handled.
   */
  async expireDue(due: readonly DueExpiry[]): Promise<number> {
    const byCache = new Map<string, { ref: EntityRef; keys: string[] }>();
    for (const { ref, key } of due) {
      const id = JSON.stringify([ref.org, ref.name]); // a tuple, never a concatenation
      const group = byCache.get(id) ?? { ref, keys: [] };
      group.keys.push(key);
      byCache.set(id, group);
    }
    await Promise.all(
      [...byCache.values()].map(async ({ ref, keys }) => {
        if (this.stopping) return;
        const entity = this.loaded(ref);
        if (entity !== undefined) {
          await Promise.all(keys.map((key) => entity.ask({ type: 'ExpireKey', key, by: 'system' })));
          return;
        }
        let writes = this.unloadedWrites.get(ref.org);
        if (writes === undefined) this.unloadedWrites.set(ref.org, (writes = new Map()));
        const previous = writes.get(ref.name) ?? Promise.resolve();
        const write = previous.then(async () => {
          const now = this.ctx.now();
          const events: CacheEvent[] = keys.map((key) => ({ at: now, by: 'system', device: null, type: 'Expired', key }));
          await this.ctx.journal.append(ref, await this.ctx.journal.highestSeq(ref), events);
        });
        const settled = write.catch((error: Error) => this.logger.warn(`expiring ${keys.length} keys of ${JSON.stringify(ref)} failed: ${error.message}; retried on the next sweep`));
        writes.set(ref.name, settled);
        await settled;
        if (writes.get(ref.name) === settled) writes.delete(ref.name);
        if (writes.size === 0) this.unloadedWrites.delete(ref.org);
      }),
    );
    return due.length;
  }

  /** How many entities are in each lifecycle state (for the metrics). */
  countByLifecycle(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const names of this.byOrg.values()) for (const entity of names.values()) counts.set(entity.lifecycle, (counts.get(entity.lifecycle) ?? 0) + 1);
    return counts;
  }

  get size(): number {
    let n = 0;
    for (const names of this.byOrg.values()) n += names.size;
    return n;
  }

  /**
   * On a shared journal (NATS), hands every event other nodes commit to the entity of its
   * cache if this node holds it, so reads here see them within the stream's delivery lag.
   * Called once the journal is open; events of caches not held are skipped (they are read
   * from the journal when the cache is first used).
   */
  followShared(): void {
    const journal = this.ctx.journal;
    if (!journal.shared || this.following !== undefined) return;
    this.following = journal.follow(journal.highestOffset).subscribe({
      next: (batch) => {
        for (const envelope of batch) this.byOrg.get(envelope.ref.org)?.get(envelope.ref.name)?.applyRemote(envelope);
      },
      error: (error) => this.logger.error(`following the shared journal stopped: ${(error as Error).message}`),
    });
  }

  /**
   * Read-your-writes across nodes: resolves once this node's copy of the cache is at `seq`
   * or beyond; throws a 400-kind error when the journal has no such seq.
   */
  async reach(ref: EntityRef, seq: number): Promise<void> {
    const entity = this.entity(ref);
    try {
      await entity.ready;
    } catch (error) {
      throw new StorageUnavailableError(error);
    }
    if (!(await entity.reach(seq, this.options.readWaitMs ?? 0))) throw new SeqNotReachedError(seq, entity.seq);
  }

  /** Stops timers without draining (a start that failed). */
  halt(): void {
    this.following?.unsubscribe();
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.ctx.scheduler.stop();
  }

  /** Drains every mailbox and snapshots every entity (clean shutdown). */
  async stopAll(): Promise<void> {
    this.following?.unsubscribe();
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.ctx.scheduler.stop();
    const all = [...this.byOrg.values()].flatMap((names) => [...names.values()]);
    await Promise.all([...this.unloadedWrites.values()].flatMap((writes) => [...writes.values()]));
    await Promise.all(all.map((entity) => entity.ready.catch(() => undefined).then(() => entity.whenDrained())));
    await this.ctx.journal.whenIdle();
    await Promise.all(all.map((entity) => entity.snapshot()));
  }

  private passivateIdle(): void {
    if (this.stopping) return;
    const now = this.ctx.now();
    for (const [org, names] of this.byOrg) {
      for (const [name, entity] of names) {
        const idleFor = now - entity.lastTouched;
        const forgettable = entity.isReady && entity.state.status === 'absent' && idleFor >= 1000;
        if (entity.isReady && entity.isIdle && (idleFor >= this.options.idleMs || forgettable)) {
          names.delete(name);
          entity.passivate().catch((error) => this.logger.warn(`passivation of ${name} failed: ${(error as Error).message}`));
        }
      }
      if (names.size === 0) this.byOrg.delete(org);
    }
  }
}
