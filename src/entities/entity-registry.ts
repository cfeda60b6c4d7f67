import { Subscription } from 'rxjs';
import { Logger } from '@nestjs/common';
import { CacheCommand, CacheEvent, CacheState, DEFAULT_SETTINGS, decide, initialState } from '../domain';
import { DueExpiry, InlineReadModels } from '../journal/inline-read-models';
import { StorageUnavailableError } from '../journal/storage-fault';
import { EntityRef } from '../journal/keys';
import { AskOptions, CacheEntity, EntityContext, Reply } from './cache-entity';
import { NameRows } from './name-rows';

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
  /**
   * The journal's inline read models: a read, or a command that cannot create its cache, of a
   * cache they say is not live is answered without an entity (none is recovered for it). Not
   * used on a shared journal, whose rows trail other nodes' writes.
   */
  readonly readModels?: InlineReadModels;
  /**
   * Entities one org may have loaded (MAX_ENTITIES_PER_ORG): loading one more passivates the
   * org's own least recently used idle ones, never another org's. Absent: no bound.
   */
  readonly maxEntitiesPerOrg?: number;
}

/** A cache that is not live, as the read models describe it, without its entity. */
interface Ghost {
  readonly state: CacheState;
  readonly seq: number;
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
  /** Orgs whose loaded entities are over MAX_ENTITIES_PER_ORG with none idle: trimmed again soon. */
  private readonly trimLater = new Set<string>();
  private trimTimer: NodeJS.Timeout | undefined;
  /** Entities passivated to keep an org under MAX_ENTITIES_PER_ORG (for the metrics and tests). */
  boundPassivations = 0;
  private readonly ctx: EntityContext;
  /** The read models' cache-name rows, read together for the caches asked about in one turn. */
  private readonly nameRows: NameRows | undefined;

  constructor(
    ctx: EntityContext,
    private readonly options: RegistryOptions,
  ) {
    // An entity whose cache is no longer live (deleted, or never created) tells the registry
    // after each group, so it is unloaded at once instead of after ENTITY_IDLE_SECONDS.
    this.ctx = { ...ctx, notLive: (ref) => this.notLive(ref) };
    this.nameRows = options.readModels === undefined ? undefined : new NameRows(options.readModels);
    const every = Math.max(1000, Math.min(options.idleMs / 2, 30_000));
    this.sweeper = setInterval(() => this.passivateIdle(), every);
    this.sweeper.unref();
  }

  entity(ref: EntityRef): CacheEntity {
    let names = this.byOrg.get(ref.org);
    if (names === undefined) this.byOrg.set(ref.org, (names = new Map()));
    let entity = names.get(ref.name);
    if (entity === undefined || entity.lifecycle === 'failed') {
      const max = this.options.maxEntitiesPerOrg;
      if (max !== undefined && names.size >= max && entity === undefined) this.trim(ref.org, names, max - 1);
      entity = new CacheEntity(ref, this.ctx, this.unloadedWrites.get(ref.org)?.get(ref.name));
      names.set(ref.name, entity);
    }
    return entity;
  }

  ask(ref: EntityRef, command: CacheCommand, options?: AskOptions): Promise<Reply> {
    return this.entity(ref).ask(command, options);
  }

  /**
   * A command that cannot create its cache: when the cache is not loaded and the read models
   * say it is not live, it is decided against the state they describe, without an entity (a
   * delete of a cache that does not exist recovers nothing). A decision that would append
   * events (none does for a cache that is not live) goes to the entity after all.
   */
  async askExisting(ref: EntityRef, command: CacheCommand, options?: AskOptions): Promise<Reply> {
    if (this.loaded(ref) === undefined) {
      const ghost = await this.ghost(ref);
      if (ghost !== undefined && this.loaded(ref) === undefined) {
        const decision = decide(ghost.state, command, this.ctx.now());
        if (!decision.ok) return { ok: false, error: decision.error };
        if (decision.events.length === 0) {
          const reply = { ok: true as const, envelopes: [] };
          return decision.results !== undefined ? { ...reply, results: decision.results } : decision.aborted ? { ...reply, aborted: true } : reply;
        }
      }
    }
    return this.ask(ref, command, options);
  }

  /**
   * The state of a cache that is not loaded, from the read models, when they say it is not
   * live (absent, or deleted with its description and seq); undefined: load the entity.
   */
  private async ghost(ref: EntityRef): Promise<Ghost | undefined> {
    const rows = this.nameRows;
    if (rows === undefined || this.ctx.journal.shared) return undefined;
    let row;
    try {
      row = await rows.row(ref);
    } catch {
      return undefined; // the entity's recovery reports a storage fault
    }
    if (row !== undefined && !row.deleted) return undefined;
    if (row === undefined) return { state: initialState(), seq: 0 };
    const seq = await this.ctx.journal.highestSeq(ref).catch(() => undefined);
    if (seq === undefined) return undefined;
    const state: CacheState = { ...initialState(), status: 'deleted', description: row.description, version: seq, settings: DEFAULT_SETTINGS };
    return { state, seq };
  }

  /** The committed state of a cache, recovering its entity if needed (not for a cache the read models say is not live). */
  async state(ref: EntityRef): Promise<CacheState> {
    if (this.loaded(ref) === undefined) {
      const ghost = await this.ghost(ref);
      if (ghost !== undefined && this.loaded(ref) === undefined) return ghost.state;
    }
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

  /**
   * `stateNow` for the entity itself (reads that count as use go through it); undefined: the
   * cache is not live (no entity is loaded for it).
   */
  entityNow(ref: EntityRef): CacheEntity | Promise<CacheEntity | undefined> {
    const entity = this.byOrg.get(ref.org)?.get(ref.name);
    if (entity !== undefined && entity.isReady) {
      entity.lastTouched = this.ctx.now();
      return entity;
    }
    return this.state(ref).then((state) => (state.status === 'live' ? this.entity(ref) : this.loaded(ref)));
  }

  /** The cache's committed seq: synchronously when its entity is ready; a cache that is not live loads none. */
  seqNow(ref: EntityRef): number | Promise<number> {
    const entity = this.byOrg.get(ref.org)?.get(ref.name);
    if (entity !== undefined && entity.isReady) return entity.seq;
    return this.seq(ref);
  }

  async seq(ref: EntityRef): Promise<number> {
    if (this.loaded(ref) === undefined) {
      const ghost = await this.ghost(ref);
      if (ghost !== undefined && this.loaded(ref) === undefined) return ghost.seq;
    }
    const entity = this.entity(ref);
    if (!entity.isReady) await entity.ready;
    return entity.seq;
  }

  /** Entities loaded for an org (any lifecycle). */
  loadedIn(org: string): number {
    return this.byOrg.get(org)?.size ?? 0;
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

  /** The cache of `ref` is not live after its entity's last group: unload it once it is idle. */
  private notLive(ref: EntityRef): void {
    if (this.stopping || this.options.readModels === undefined || this.ctx.journal.shared) return;
    const entity = this.loaded(ref);
    if (entity === undefined) return;
    setImmediate(() => {
      const names = this.byOrg.get(ref.org);
      if (this.stopping || names?.get(ref.name) !== entity) return;
      if (!entity.isReady || !entity.isIdle || entity.state.status === 'live') return;
      this.unload(entity.ref.org, names, entity);
    });
  }

  private unload(org: string, names: Map<string, CacheEntity>, entity: CacheEntity): void {
    names.delete(entity.ref.name);
    if (names.size === 0) this.byOrg.delete(org);
    entity.passivate().catch((error) => this.logger.warn(`passivation of ${entity.ref.name} failed: ${(error as Error).message}`));
  }

  /**
   * Brings an org down to `target` loaded entities by passivating its own least recently
   * used idle ones (another org's are never touched). Entities in use (recovering, with
   * commands queued) stay; the org is trimmed again once they are idle.
   */
  private trim(org: string, names: Map<string, CacheEntity>, target: number): void {
    if (names.size <= target) return;
    const idle: CacheEntity[] = [];
    for (const entity of names.values()) if (entity.isReady && entity.isIdle) idle.push(entity);
    // Down to 90 % of the bound in one pass, so a stream of new caches costs one sort per tenth of it.
    const max = this.options.maxEntitiesPerOrg ?? target;
    const goal = Math.min(target, Math.floor(max * 0.9));
    const excess = names.size - goal;
    if (idle.length > excess) idle.sort((a, b) => a.lastTouched - b.lastTouched);
    for (const entity of idle.slice(0, Math.max(0, excess))) {
      this.unload(org, names, entity);
      this.boundPassivations++;
    }
    if (names.size > target) this.trimSoon(org);
  }

  private trimSoon(org: string): void {
    this.trimLater.add(org);
    if (this.trimTimer !== undefined || this.stopping) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      const max = this.options.maxEntitiesPerOrg;
      const orgs = [...this.trimLater];
      this.trimLater.clear();
      if (max === undefined || this.stopping) return;
      for (const o of orgs) {
        const names = this.byOrg.get(o);
        if (names !== undefined) this.trim(o, names, max);
      }
    }, 50);
    this.trimTimer.unref();
  }

  /** Stops timers without draining (a start that failed). */
  halt(): void {
    this.following?.unsubscribe();
    this.stopping = true;
    if (this.trimTimer) clearTimeout(this.trimTimer);
    if (this.sweeper) clearInterval(this.sweeper);
    this.ctx.scheduler.stop();
  }

  /** Drains every mailbox and snapshots every entity (clean shutdown). */
  async stopAll(): Promise<void> {
    this.following?.unsubscribe();
    this.stopping = true;
    if (this.trimTimer) clearTimeout(this.trimTimer);
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
        const forgettable = entity.isReady && entity.state.status !== 'live' && idleFor >= 1000;
        if (entity.isReady && entity.isIdle && (idleFor >= this.options.idleMs || forgettable)) {
          names.delete(name);
          entity.passivate().catch((error) => this.logger.warn(`passivation of ${name} failed: ${(error as Error).message}`));
        }
      }
      if (names.size === 0) this.byOrg.delete(org);
    }
  }
}
