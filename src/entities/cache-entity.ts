import { Logger } from '@nestjs/common';
import { createActor } from 'xstate';
import { CacheCommand, CacheEvent, CacheState, DomainError, Entry, OperationResult, decide, domainError, draftOf, evolve, initialState, useEntry } from '../domain';
import { CompactEntryMap } from '../domain/compact-entry-map';
import { Envelope, Journal, JournalContendedError, JournalSequenceConflictError, JournalUnavailableError } from '../journal/journal';
import { SnapshotStore } from '../journal/snapshot-store';
import { EntityRef, encodeEntityId } from '../journal/keys';
import { LifecycleState, entityLifecycle } from './entity-lifecycle.machine';
import { ExpiryScheduler } from './expiry-scheduler';
import { OrgCaches } from './org-caches';
import { OrgQuota } from './org-quota';

/**
 * A command group that failed inside the entity for a reason that is neither a domain rejection
 * nor a journal fault (a bug, a resource exhausted): its askers get this, the process goes on.
 */
export class CommandFailedError extends Error {
  readonly code = 'COMMAND_FAILED';
  constructor(readonly cause: unknown) {
    super('the command could not be carried out; nothing was changed');
  }
}

export type Reply =
  | {
      readonly ok: true;
      readonly envelopes: readonly Envelope[];
      /** `ApplyOperations`: one result per operation (see decide's Decision). */
      readonly results?: readonly OperationResult[];
      /** `ApplyOperations`: a watched key had changed; nothing was decided. */
      readonly aborted?: boolean;
    }
  | { readonly ok: false; readonly error: DomainError | JournalUnavailableError | CommandFailedError };

export interface AskOptions {
  /** The org's byte quota for this request (by the token's service level); undefined: none. */
  readonly quotaLimit?: number;
}

interface Ask {
  readonly command: CacheCommand;
  readonly options: AskOptions | undefined;
  readonly resolve: (reply: Reply) => void;
}

export interface EntityContext {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly scheduler: ExpiryScheduler;
  readonly quota: OrgQuota;
  readonly now: () => number;
  readonly snapshotEvery: number;
  /**
   * Events one command may decide (MAX_EVENTS_PER_COMMAND); absent: no limit. One command is one
   * synchronous decide, encode and apply, so its size is how long every other org waits.
   */
  readonly maxEventsPerCommand?: number;
  /** Snapshot once this many bytes were journaled since the last one (SNAPSHOT_BYTES); see maybeSnapshot. */
  readonly snapshotBytes?: number;
  /** Live caches per org (MAX_CACHES_PER_ORG); absent: no limit. */
  readonly caches?: OrgCaches;
  /** Told of recoveries and snapshots (the metrics). */
  readonly observer?: EntityObserver;
  /**
   * A shared journal (NATS): times a group is decided again after another node wrote to
   * the cache first, catching up from the journal each time, before it answers 503.
   */
  readonly appendRetries?: number;
}

export interface EntityObserver {
  recovered(seconds: number): void;
  snapshotWritten(): void;
}

export class SequenceGapError extends Error {
  readonly code = 'JOURNAL_SEQUENCE_GAP';
}

/** Bytes a snapshot or a journal record takes per entry or event besides keys and values (an estimate). */
const RECORD_OVERHEAD_BYTES = 32;

/** About what an event adds to the journal (and so to a replay after a crash). */
function journaledBytes(event: CacheEvent): number {
  switch (event.type) {
    case 'Set':
      return RECORD_OVERHEAD_BYTES + event.key.length + event.value.byteLength;
    case 'Deleted':
    case 'Expired':
    case 'Evicted':
    case 'ExpiryChanged':
      return RECORD_OVERHEAD_BYTES + event.key.length;
    default:
      return RECORD_OVERHEAD_BYTES;
  }
}

/** Most commands one group of decisions takes from the mailbox. */
const MAX_BATCH = 1024;

/** How long a conflicting write waits for the winner's events to come through the follower. */
const FOLLOWER_WAIT_MS = 500;

/**
 * An actor per (org, cacheName): a mailbox drained one group at a time, the committed
 * state, and its sequence number. A group of queued commands is decided one after the
 * other on a copy-on-write draft, journaled in one append, and only then applied to the
 * committed state, which reads see: a read never sees an event that is not on disk.
 */
export class CacheEntity {
  private readonly logger = new Logger('CacheEntity');
  readonly id: Buffer;
  state: CacheState = initialState();
  seq = 0;
  /** Global offset of the newest event this entity committed in this process. */
  lastOffset = 0;
  lastTouched: number;
  private snapshotSeq = 0;
  /** Bytes journaled since the last snapshot: what a restart after `kill -9` replays. */
  private bytesSinceSnapshot = 0;
  /**
   * Reads moved keys in the recency order since the last snapshot. The order is not in the
   * journal, so the next snapshot carries it even without new events (a clean shutdown or a
   * passivation snapshots then); after a crash, recovery has the order of the newest
   * snapshot, updated by the writes replayed after it.
   */
  private usedSinceSnapshot = false;
  private snapshotting: Promise<void> | undefined;
  private mailbox: Ask[] = [];
  private draining = false;
  private drained: Array<() => void> = [];
  /** A shared journal may hold events this entity has not applied: catch up before deciding. */
  private stale = false;
  private remoteQueue: Envelope[] = [];
  private remoteArrived: (() => void) | undefined;
  private catchUpWaiters: Array<() => void> = [];
  private seqWaiters: Array<{ seq: number; resolve: () => void }> = [];
  private readonly actor = createActor(entityLifecycle);
  lifecycle: LifecycleState = 'recovering';
  readonly ready: Promise<void>;

  constructor(
    readonly ref: EntityRef,
    private readonly ctx: EntityContext,
    /** Resolves when a write made for this cache while it was not loaded is done. */
    private readonly after: Promise<void> = Promise.resolve(),
  ) {
    this.id = encodeEntityId(ref);
    this.lastTouched = ctx.now();
    this.actor.subscribe((snapshot) => {
      this.lifecycle = snapshot.value as LifecycleState;
    });
    this.actor.start();
    this.ready = this.recover();
    this.ready.catch(() => undefined); // reported by recover(); askers get a failure reply
  }

  get isReady(): boolean {
    return this.lifecycle === 'ready';
  }

  get isIdle(): boolean {
    return !this.draining && this.mailbox.length === 0;
  }

  ask(command: CacheCommand, options?: AskOptions): Promise<Reply> {
    this.lastTouched = this.ctx.now();
    if (this.lifecycle === 'failed') {
      return Promise.resolve({ ok: false, error: new JournalUnavailableError(new Error('cache could not be recovered')) });
    }
    return new Promise((resolve) => {
      this.mailbox.push({ command, options, resolve });
      if (!this.draining && this.isReady) void this.drain();
    });
  }

  /**
   * The live value of a key, counted as use (LRU): the GET path of every family. Read from
   * the committed state only, with one lookup and nothing allocated for the touch.
   */
  useValue(key: string, now: number): Uint8Array | undefined {
    const state = this.state;
    if (state.status !== 'live') return undefined;
    const entries = state.entries;
    const value = entries instanceof CompactEntryMap ? entries.useValue(key, now) : useEntry(state, key, now)?.value;
    if (value !== undefined) this.usedSinceSnapshot = true;
    return value;
  }

  /** `useValue` with the entry's version (IronCache's `cas`). */
  useEntry(key: string, now: number): Entry | undefined {
    const entry = useEntry(this.state, key, now);
    if (entry !== undefined) this.usedSinceSnapshot = true;
    return entry;
  }

  /** Resolves when the mailbox is empty and nothing is being written. */
  whenDrained(): Promise<void> {
    return this.isIdle ? Promise.resolve() : new Promise((resolve) => this.drained.push(resolve));
  }

  private async recover(): Promise<void> {
    try {
      await this.after;
      const startedAt = performance.now();
      await this.ctx.quota.load(this.ref.org);
      const snapshot = await this.ctx.snapshots.load(this.ref);
      // Committed entries live in a CompactEntryMap (values copied into slabs, no object per key).
      const state = snapshot?.state ?? { ...initialState(), entries: new CompactEntryMap() };
      let seq = snapshot?.seq ?? 0;
      let tail = 0;
      await this.ctx.journal.forEachEvent(this.ref, seq + 1, (recordSeq, event) => {
        if (recordSeq !== seq + 1) {
          throw new SequenceGapError(`journal of ${JSON.stringify(this.ref)} jumps from seq ${seq} to ${recordSeq}`);
        }
        evolve(state, event);
        seq = recordSeq;
        tail += journaledBytes(event);
      });
      this.state = state;
      this.seq = seq;
      this.snapshotSeq = snapshot?.seq ?? 0;
      this.bytesSinceSnapshot = tail;
      const now = this.ctx.now();
      if (state.entries instanceof CompactEntryMap) {
        for (const [key, expiresAt] of state.entries.expiring()) this.ctx.scheduler.schedule(this.ref, key, Math.max(expiresAt, now));
      } else {
        for (const [key, entry] of state.entries.entries()) {
          if (entry.expiresAt !== 0) this.ctx.scheduler.schedule(this.ref, key, Math.max(entry.expiresAt, now));
        }
      }
      this.actor.send({ type: 'RECOVERED' });
      this.ctx.observer?.recovered((performance.now() - startedAt) / 1000);
      if (this.mailbox.length > 0) void this.drain();
    } catch (error) {
      this.logger.error(`recovery of ${JSON.stringify(this.ref)} failed: ${(error as Error).message}`);
      // A read that fails on broken storage heals it like a failed write; the registry
      // recovers this cache again on its next request.
      this.ctx.journal.report(error);
      this.actor.send({ type: 'RECOVERY_FAILED', reason: (error as Error).message });
      const failure: Reply = { ok: false, error: new JournalUnavailableError(error) };
      for (const ask of this.mailbox.splice(0)) ask.resolve(failure);
      throw error;
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.mailbox.length > 0 || this.catchUpWaiters.length > 0) {
      if (this.catchUpWaiters.length > 0) {
        const waiters = this.catchUpWaiters.splice(0);
        await this.catchUp().catch((error) => this.logger.warn(`catching ${JSON.stringify(this.ref)} up failed: ${(error as Error).message}`));
        for (const resolve of waiters) resolve();
        continue;
      }
      // On a shared journal a group is one command: appends to one cache are published one
      // event after the other anyway, and a conflict then costs one command, not a batch.
      const max = this.ctx.journal.shared ? 1 : MAX_BATCH;
      const group = this.mailbox.length <= max ? this.mailbox.splice(0) : this.mailbox.splice(0, max);
      try {
        await this.process(group);
      } catch (error) {
        // A fault inside a command (a bug, a resource exhausted) fails its group, never the
        // process: `drain` runs unawaited, so an escaping error would be an unhandled rejection
        // and would leave this mailbox wedged. The committed state was not touched (see process).
        this.logger.error(`a command group of ${JSON.stringify(this.ref)} failed: ${(error as Error).stack ?? error}`);
        const failure: Reply = { ok: false, error: new CommandFailedError(error) };
        for (const ask of group) ask.resolve(failure);
      }
    }
    this.draining = false;
    for (const resolve of this.drained.splice(0)) resolve();
  }

  private async process(group: Ask[], attempt = 0): Promise<void> {
    const { org } = this.ref;
    if (this.stale) await this.catchUpOrFail(group);
    if (this.lifecycle === 'failed') return;
    const caches = this.ctx.caches;
    if (caches !== undefined && !caches.isLoaded(org)) {
      try {
        await caches.load(org); // once per org and process
      } catch (error) {
        this.ctx.journal.report(error);
        const failure: Reply = { ok: false, error: new JournalUnavailableError(error) };
        for (const ask of group) ask.resolve(failure);
        return;
      }
    }
    const now = this.ctx.now();
    const draft = draftOf(this.state);
    let slotsTaken = 0;
    let slotsFreed = 0;
    const replies: Array<{ ask: Ask; error?: DomainError; from: number; count: number; results?: readonly OperationResult[]; aborted?: boolean }> = [];
    const events: CacheEvent[] = [];
    let reserved = 0;

    try {
    for (const ask of group) {
      let command = ask.command;
      const limit = ask.options?.quotaLimit;
      if (limit !== undefined && (command.type === 'SetValue' || command.type === 'Increment' || command.type === 'RestoreTo' || command.type === 'ApplyOperations')) {
        command = { ...command, quotaRemaining: Math.max(0, limit - this.ctx.quota.usedBy(org)) };
      }
      const decision = decide(draft, command, now);
      if (!decision.ok) {
        replies.push({ ask, error: decision.error, from: 0, count: 0 });
        continue;
      }
      const maxEvents = this.ctx.maxEventsPerCommand;
      if (maxEvents !== undefined && decision.events.length > maxEvents) {
        const message = `${command.type} would append ${decision.events.length} events; MAX_EVENTS_PER_COMMAND is ${maxEvents} (flush, or change the cache in smaller steps)`;
        replies.push({ ask, error: domainError('TOO_MANY_EVENTS', message), from: 0, count: 0 });
        continue;
      }
      const wasLive = draft.status === 'live';
      if (caches !== undefined && !wasLive && decision.events.some((event) => event.type === 'Created')) {
        if (!caches.tryTake(org)) {
          replies.push({ ask, error: domainError('CACHE_LIMIT_REACHED', `the organisation has ${caches.limit} caches (MAX_CACHES_PER_ORG); delete one first`), from: 0, count: 0 });
          continue;
        }
        slotsTaken++;
      }
      const bytesBefore = draft.bytes;
      for (const event of decision.events) evolve(draft, event);
      if (wasLive && draft.status !== 'live') slotsFreed++;
      const delta = draft.bytes - bytesBefore;
      if (delta > 0) {
        this.ctx.quota.reserve(org, delta);
        reserved += delta;
      }
      replies.push({ ask, from: events.length, count: decision.events.length, results: decision.results, aborted: decision.aborted });
      for (const event of decision.events) events.push(event);
    }
    } catch (error) {
      // Only the draft was changed: give back what it reserved, and let drain fail the group.
      this.ctx.quota.release(org, reserved);
      caches?.release(org, slotsTaken);
      throw error;
    }

    let envelopes: Envelope[] = [];
    if (events.length > 0) {
      try {
        envelopes = await this.ctx.journal.append(this.ref, this.seq, events);
      } catch (error) {
        this.ctx.quota.release(org, reserved);
        caches?.release(org, slotsTaken);
        // A shared journal (NATS) may hold events this entity has not seen: another node wrote
        // first (a sequence conflict), or a failed append left part of its events written.
        const retries = this.ctx.appendRetries ?? 0;
        if (error instanceof JournalSequenceConflictError && attempt < retries) {
          await this.catchUpTo(error.actualSeq);
          return this.process(group, attempt + 1);
        }
        this.stale = true;
        const failure: Reply = {
          ok: false,
          error: error instanceof JournalSequenceConflictError ? new JournalContendedError(this.ref, attempt + 1) : error instanceof JournalUnavailableError ? error : new JournalUnavailableError(error),
        };
        for (const { ask } of replies) ask.resolve(failure);
        return;
      }
      // The journal's org total now holds this group's growth and shrinkage.
      this.ctx.quota.release(org, reserved);
      caches?.release(org, slotsFreed);
      for (const event of events) {
        evolve(this.state, event);
        this.bytesSinceSnapshot += journaledBytes(event);
        if ((event.type === 'Set' || event.type === 'ExpiryChanged') && event.expiresAt !== 0) this.ctx.scheduler.schedule(this.ref, event.key, event.expiresAt);
      }
      this.seq += events.length;
      this.lastOffset = envelopes[envelopes.length - 1].offset;
      this.maybeSnapshot();
    }
    for (const { ask, error, from, count, results, aborted } of replies) {
      if (error) {
        ask.resolve({ ok: false, error });
        continue;
      }
      const reply = { ok: true as const, envelopes: envelopes.slice(from, from + count) };
      ask.resolve(results !== undefined ? { ...reply, results } : aborted ? { ...reply, aborted } : reply);
    }
    this.applyQueuedRemote();
  }

  /**
   * Applies events from the journal that this entity has not seen (written by other nodes
   * on a shared journal), in seq order. Only between groups: never under a draft.
   */
  private async catchUp(): Promise<void> {
    this.remoteQueue = [];
    await this.ctx.journal.forEachEvent(this.ref, this.seq + 1, (recordSeq, event) => {
      if (recordSeq !== this.seq + 1) throw new SequenceGapError(`journal of ${JSON.stringify(this.ref)} jumps from seq ${this.seq} to ${recordSeq}`);
      this.applyCommitted(recordSeq, event);
    });
    this.stale = false;
    this.notifySeq();
  }

  /**
   * After a sequence conflict: the winner's events are usually on their way through the
   * follower already, so wait briefly for them (cheap) before reading the cache's log from
   * the journal (a scan of its subject).
   */
  private async catchUpTo(targetSeq: number): Promise<void> {
    const until = Date.now() + FOLLOWER_WAIT_MS;
    for (;;) {
      this.applyQueuedRemote();
      if (this.stale || this.seq >= targetSeq || Date.now() >= until) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.remoteArrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.remoteArrived = undefined;
    }
    if (this.seq < targetSeq || this.stale) this.stale = true; // process() catches up from the journal
  }

  private async catchUpOrFail(group: Ask[]): Promise<void> {
    try {
      await this.catchUp();
    } catch (error) {
      // The entity stays stale and answers 503; the next command tries again.
      const failure: Reply = { ok: false, error: new JournalUnavailableError(error) };
      for (const ask of group.splice(0)) ask.resolve(failure);
    }
  }

  private applyCommitted(seq: number, event: CacheEvent): void {
    evolve(this.state, event);
    this.seq = seq;
    this.bytesSinceSnapshot += journaledBytes(event);
    if ((event.type === 'Set' || event.type === 'ExpiryChanged') && event.expiresAt !== 0) this.ctx.scheduler.schedule(this.ref, event.key, event.expiresAt);
  }

  /**
   * An event another node committed (a shared journal's follower hands it in, in stream
   * order): applied at once when it is the next seq and no group is being decided, else
   * queued until the group is done; a gap marks the entity stale (caught up before the
   * next command, or by `reach()`).
   */
  applyRemote(envelope: Envelope): void {
    if (!this.isReady || envelope.seq <= this.seq) return;
    if (this.draining) {
      this.remoteQueue.push(envelope);
      this.remoteArrived?.();
      return;
    }
    if (envelope.seq !== this.seq + 1) {
      this.stale = true;
      return;
    }
    this.applyCommitted(envelope.seq, envelope.event);
    this.lastOffset = envelope.offset;
    this.notifySeq();
  }

  private applyQueuedRemote(): void {
    if (this.remoteQueue.length === 0) return;
    const queued = this.remoteQueue;
    this.remoteQueue = [];
    for (const envelope of queued) {
      if (envelope.seq <= this.seq) continue;
      if (envelope.seq !== this.seq + 1) {
        this.stale = true;
        break;
      }
      this.applyCommitted(envelope.seq, envelope.event);
      this.lastOffset = envelope.offset;
    }
    this.notifySeq();
  }

  private notifySeq(): void {
    if (this.seqWaiters.length === 0) return;
    const still: typeof this.seqWaiters = [];
    for (const waiter of this.seqWaiters) (waiter.seq <= this.seq ? waiter.resolve() : still.push(waiter));
    this.seqWaiters = still;
  }

  /**
   * Read-your-writes on a shared journal: resolves true once this entity is at `seq` or
   * beyond: at once, or when the follower brings it within `waitMs`, or else after catching
   * up from the journal (between groups). False: the journal has no such seq.
   */
  async reach(seq: number, waitMs: number): Promise<boolean> {
    if (!this.isReady) await this.ready;
    if (seq <= this.seq) return true;
    const followed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.seqWaiters = this.seqWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, waitMs);
      const waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.seqWaiters.push(waiter);
    });
    if (followed) return true;
    await new Promise<void>((resolve) => {
      this.stale = true;
      this.catchUpWaiters.push(resolve);
      if (!this.draining && this.isReady) void this.drain();
    });
    return seq <= this.seq;
  }

  /**
   * The snapshot policy, by bytes: a snapshot is taken once the bytes journaled since the
   * last one reach the snapshot's own size (so its O(state) cost, a synchronous encode and a
   * value as large as the cache, stays at most about one byte per byte written), and either
   * SNAPSHOT_EVERY events or SNAPSHOT_BYTES bytes have passed. What a restart after `kill -9`
   * replays per cache is then bounded by max(SNAPSHOT_BYTES, the cache's size) bytes.
   */
  private maybeSnapshot(): void {
    if (this.snapshotting !== undefined) return;
    const snapshotSize = this.state.bytes + RECORD_OVERHEAD_BYTES * this.state.entries.size;
    if (this.bytesSinceSnapshot < snapshotSize) return;
    const snapshotBytes = this.ctx.snapshotBytes ?? Number.POSITIVE_INFINITY;
    if (this.seq - this.snapshotSeq >= this.ctx.snapshotEvery || this.bytesSinceSnapshot >= snapshotBytes) void this.snapshot();
  }

  /** Writes a snapshot of the committed state if there are events since the last one. */
  snapshot(): Promise<void> {
    if (this.snapshotting) return this.snapshotting.then(() => this.snapshot());
    const unchanged = this.seq === this.snapshotSeq && !this.usedSinceSnapshot;
    if (unchanged || this.lifecycle === 'failed' || this.lifecycle === 'recovering') return Promise.resolve();
    const seq = this.seq;
    const covered = this.bytesSinceSnapshot;
    // The state is encoded synchronously when the save starts: reads after this line are the next snapshot's.
    this.usedSinceSnapshot = false;
    this.snapshotting = this.ctx.snapshots
      .save(this.ref, seq, this.state)
      .then(() => {
        this.snapshotSeq = seq;
        this.bytesSinceSnapshot -= covered;
        this.ctx.observer?.snapshotWritten();
      })
      .catch((error) => {
        this.usedSinceSnapshot = true; // the order is still only in memory
        this.ctx.journal.report(error); // a failed write poisons LevelDB's handle until it is reopened
        this.logger.warn(`snapshot of ${JSON.stringify(this.ref)} failed: ${(error as Error).message}`);
      })
      .finally(() => {
        this.snapshotting = undefined;
      });
    return this.snapshotting;
  }

  /** Stops taking commands: drains, snapshots, and ends the lifecycle. */
  async passivate(): Promise<void> {
    if (this.lifecycle !== 'ready') return;
    this.actor.send({ type: 'PASSIVATE' });
    await this.whenDrained();
    await this.snapshot();
    this.actor.send({ type: 'STOPPED' });
    this.actor.stop();
  }
}
