import { CacheCommand, CacheState, Entry, domainError } from '../domain';
import { operationsMayCreate } from '../domain/decide-operations';
import { Reply } from '../entities/cache-entity';
import { EntityRegistry } from '../entities/entity-registry';
import { NameRows } from '../entities/name-rows';
import { OrgCaches } from '../entities/org-caches';
import { CacheNameRow, InlineReadModels, KeyPage, KeyPageRequest } from '../journal/inline-read-models';
import { EntityRef } from '../journal/keys';
import { Admission } from './admission';
import { CommandRouter } from './command-router';
import { DiskBudget } from './disk-budget';
import { RequestContext } from './request-context';

/** Reads the clock; the only time source of the core (tests pass a fixed one). */
export interface CoreClock {
  now(): number;
}

/** Hears every key read at the gateway, by org (the per-org figures). */
export interface ReadObserver {
  read(org: string, hit: boolean): void;
}

/**
 * The only door to the caches for every API family and transport: commands go through the
 * admission list to the entity registry; reads are answered from committed state (never a
 * half-applied command), synchronously when the cache's entity is ready.
 */
export class CacheGateway {
  /** Whether caches exist, read together for the commands of one turn (a batch over thousands of new names at the limit). */
  private readonly nameRows: NameRows;

  constructor(
    private readonly registry: EntityRegistry,
    private readonly clock: CoreClock,
    private readonly readModels: InlineReadModels,
    private readonly orgCaches: OrgCaches,
    readonly admission: Admission,
    private readonly disk?: DiskBudget,
    private readonly reads?: ReadObserver,
    /** Scale-out: sends a command to its cache's owner (src/cluster/); absent, every command runs here. */
    private readonly router?: CommandRouter,
  ) {
    this.nameRows = new NameRows(readModels);
  }

  /** Sends a command; resolves with the reply, whether accepted or refused (never throws for a refusal). */
  ask(ctx: RequestContext, cacheName: string, asked: CacheCommand): Promise<Reply> {
    const principal = ctx.principal;
    const refusal = this.admission.refuse(principal, asked) ?? this.disk?.refuse(principal, asked);
    // The org's journal bytes being read (after a start): judged when they land, in the order asked.
    if (refusal instanceof Promise) return refusal.then((later) => (later !== undefined ? { ok: false, error: later } : this.admitted(ctx, cacheName, asked)));
    if (refusal !== undefined) return Promise.resolve({ ok: false, error: refusal });
    return this.admitted(ctx, cacheName, asked);
  }

  private admitted(ctx: RequestContext, cacheName: string, asked: CacheCommand): Promise<Reply> {
    const principal = ctx.principal;
    const command = this.admission.stamp(asked);
    const quotaLimit = this.admission.quotaLimit(principal);
    const ref = { org: principal.org, name: cacheName };
    if (this.router === undefined) return this.askHere(ref, command, quotaLimit);
    return this.router.route(ref, command, quotaLimit, () => this.askHere(ref, command, quotaLimit));
  }

  /**
   * Runs an admitted command through this node's registry: the rest of `ask`, and what a
   * cache's owner runs for a command another node forwarded to it.
   */
  askHere(ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined): Promise<Reply> {
    const creates = mayCreateCache(command);
    if (creates && !this.registry.isLiveNow(ref)) {
      // Synchronous unless the command waits for names on their way (see OrgCaches.enter), when
      // another command's leave runs this: nothing may throw into it.
      return new Promise((resolve, reject) =>
        this.orgCaches.enter(ref.org, ref.name, (admitted) => {
          if (!admitted) return resolve(this.askAtLimit(ref, command, quotaLimit));
          try {
            resolve(this.registry.ask(ref, command, { quotaLimit }).finally(() => this.orgCaches.leave(ref.org, ref.name)));
          } catch (error) {
            this.orgCaches.leave(ref.org, ref.name);
            reject(error);
          }
        }),
      );
    }
    // A delete (or any command that cannot create its cache) of a cache that is not loaded:
    // answered from the read models when the cache is not live, without recovering an entity.
    if (!creates && this.registry.loaded(ref) === undefined) return this.registry.askExisting(ref, command, { quotaLimit });
    return this.registry.ask(ref, command, { quotaLimit });
  }

  /**
   * An org at MAX_CACHES_PER_ORG (its live caches, once names on their way are answered): a command for a cache that
   * does not exist is refused here, without recovering an entity for it (a batch over
   * thousands of new names stays cheap). The entity checks again when the command is decided.
   */
  private async askAtLimit(ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined): Promise<Reply> {
    const row = await this.nameRows.row(ref);
    if (row === undefined || row.deleted) {
      return { ok: false, error: domainError('CACHE_LIMIT_REACHED', `the organisation has ${this.orgCaches.limit} caches (MAX_CACHES_PER_ORG); delete one first`) };
    }
    return this.registry.ask(ref, command, { quotaLimit });
  }

  /** The committed state of a cache (recovering its entity if needed). */
  state(ctx: RequestContext, cacheName: string): Promise<CacheState> {
    return this.registry.state(refOf(ctx, cacheName));
  }

  /** `state`, synchronously when the cache's entity is ready (the read hot path). */
  stateNow(ctx: RequestContext, cacheName: string): CacheState | Promise<CacheState> {
    return this.registry.stateNow(refOf(ctx, cacheName));
  }

  /** The live entry of a key; a hit counts as use for the cache's LRU eviction. Synchronous when ready. */
  useEntryNow(ctx: RequestContext, cacheName: string, key: string): Entry | undefined | Promise<Entry | undefined> {
    const org = ctx.principal.org;
    const entity = this.registry.entityNow(refOf(ctx, cacheName));
    if (entity instanceof Promise) return entity.then((e) => this.counted(org, e?.useEntry(key, this.clock.now())));
    return this.counted(org, entity.useEntry(key, this.clock.now()));
  }

  /** The live value of a key; a hit counts as use. Synchronous when ready. */
  useValueNow(ctx: RequestContext, cacheName: string, key: string): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    const org = ctx.principal.org;
    const entity = this.registry.entityNow(refOf(ctx, cacheName));
    if (entity instanceof Promise) return entity.then((e) => this.counted(org, e?.useValue(key, this.clock.now())));
    return this.counted(org, entity.useValue(key, this.clock.now()));
  }

  private counted<T>(org: string, found: T | undefined): T | undefined {
    this.reads?.read(org, found !== undefined);
    return found;
  }

  /** Live keys from the journal's key listing (exact once a write is acknowledged); undefined: no such cache. */
  async keys(ctx: RequestContext, cacheName: string): Promise<string[] | undefined> {
    const ref = refOf(ctx, cacheName);
    const state = await this.registry.state(ref);
    if (state.status !== 'live') return undefined;
    return this.readModels.listKeys(ref, this.clock.now());
  }

  /**
   * One page of the live keys, in the key listing's order (byte order of the key), with
   * bounded work (see `InlineReadModels.keyPage`); undefined: no such cache.
   */
  async keyPage(ctx: RequestContext, cacheName: string, request: KeyPageRequest): Promise<KeyPage | undefined> {
    const ref = refOf(ctx, cacheName);
    const state = await this.registry.state(ref);
    if (state.status !== 'live') return undefined;
    return this.readModels.keyPage(ref, this.clock.now(), request);
  }

  /** Value bytes of all the caller's org's caches (the byte quota's figure, a maintained total). */
  orgValueBytes(ctx: RequestContext): Promise<number> {
    return this.readModels.orgBytes(ctx.principal.org);
  }

  /** The caller's org's caches. */
  cacheNames(ctx: RequestContext): Promise<CacheNameRow[]> {
    return this.readModels.listCaches(ctx.principal.org);
  }

  now(): number {
    return this.clock.now();
  }
}

const refOf = (ctx: RequestContext, cacheName: string): EntityRef => ({ org: ctx.principal.org, name: cacheName });

/** Commands that create their cache when it does not exist. */
export function mayCreateCache(command: CacheCommand): boolean {
  return command.type === 'CreateCache' || command.type === 'Increment' || (command.type === 'ApplyOperations' && operationsMayCreate(command.ops)) || (command.type === 'SetValue' && !command.requireCache);
}
