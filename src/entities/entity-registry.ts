import { Logger } from '@nestjs/common';
import { CacheCommand, CacheState } from '../domain';
import { StorageUnavailableError } from '../journal/storage-healer';
import { EntityRef } from '../journal/keys';
import { AskOptions, CacheEntity, EntityContext, Reply } from './cache-entity';

export interface RegistryOptions {
  readonly idleMs: number;
}

/**
 * Finds or recovers the entity of an (org, cacheName). Orgs and names are kept in nested
 * maps, never in a concatenated string, so tenants cannot collide.
 */
export class EntityRegistry {
  private readonly logger = new Logger('EntityRegistry');
  private readonly byOrg = new Map<string, Map<string, CacheEntity>>();
  /** Entities whose bytes are in the org quota; bytes stay counted while passivated. */
  private readonly counted = new Map<string, Set<string>>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopping = false;

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
      entity = new CacheEntity(ref, this.ctx, (e) => this.countOnce(e));
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

  /** Recovers the given caches now (at start, so expiries and quotas are known). */
  async recoverAll(refs: Iterable<EntityRef>, concurrency = 4): Promise<number> {
    const queue = [...refs];
    let recovered = 0;
    let corrupt: Error | undefined;
    const worker = async () => {
      for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
        await this.entity(ref).ready.then(
          () => recovered++,
          (error: Error & { code?: string }) => {
            if (error?.code === 'JOURNAL_CORRUPT' || error?.code === 'JOURNAL_SEQUENCE_GAP') corrupt ??= error;
          },
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    // A damaged journal stops the start (the caller names the record): serving around it would hide data loss.
    if (corrupt) throw corrupt;
    return recovered;
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

  /** Stops timers without draining (a start that failed). */
  halt(): void {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.ctx.scheduler.stop();
  }

  /** Drains every mailbox and snapshots every entity (clean shutdown). */
  async stopAll(): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.ctx.scheduler.stop();
    const all = [...this.byOrg.values()].flatMap((names) => [...names.values()]);
    await Promise.all(all.map((entity) => entity.ready.catch(() => undefined).then(() => entity.whenDrained())));
    await this.ctx.journal.whenIdle();
    await Promise.all(all.map((entity) => entity.snapshot()));
  }

  private countOnce(entity: CacheEntity): void {
    let names = this.counted.get(entity.ref.org);
    if (names === undefined) this.counted.set(entity.ref.org, (names = new Set()));
    if (names.has(entity.ref.name)) return;
    names.add(entity.ref.name);
    this.ctx.quota.add(entity.ref.org, entity.state.bytes);
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
