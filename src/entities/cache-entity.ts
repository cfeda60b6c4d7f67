import { Logger } from '@nestjs/common';
import { createActor } from 'xstate';
import { CacheCommand, CacheEvent, CacheState, Entry, evolve, expiringKeys, initialState, useEntry, useValue } from '../domain';
import { Envelope, JournalContendedError, JournalSequenceConflictError, JournalUnavailableError } from '../journal/journal';
import { AppendContention } from './append-contention';
import { EntityRef, encodeEntityId } from '../journal/keys';
import { Ask, AskOptions, CommandFailedError, EntityContext, Reply } from './entity-context';
import { LifecycleState, entityLifecycle } from './entity-lifecycle.machine';
import { DecidedGroup, answerGroup, decideGroup } from './decide-group';
import { DecisionLimits, GroupLedger } from './group-ledger';
import { recoverState } from './recovery';
import { SharedJournalFollower } from './shared-journal-follower';
import { SnapshotPolicy } from './snapshot-policy';
import { JournalCatchUp } from './journal-catch-up';

export { CommandFailedError, SequenceGapError } from './entity-context';
export type { AskOptions, EntityContext, EntityObserver, Reply } from './entity-context';

/** Most commands one group of decisions takes from the mailbox. */
const MAX_BATCH = 1024;

/**
 * An actor per (org, cacheName): a mailbox drained one group at a time, the committed
 * state, and its sequence number. A group of queued commands is decided one after the
 * other on a copy-on-write draft, journaled in one append, and only then applied to the
 * committed state, which reads see: a read never sees an event that is not on disk.
 * Its collaborators: the group's ledger (limits that need the decided events), the snapshot
 * policy, catching up from the journal, and on a shared journal the follower that applies
 * other nodes' events.
 */
export class CacheEntity {
  private readonly logger = new Logger('CacheEntity');
  readonly id: Buffer;
  state: CacheState = initialState();
  seq = 0;
  /** Global offset of the newest event this entity committed in this process. */
  lastOffset = 0;
  lastTouched: number;
  private mailbox: Ask[] = [];
  private draining = false;
  private drained: Array<() => void> = [];
  private readonly catchUp: JournalCatchUp;
  private readonly actor = createActor(entityLifecycle);
  private readonly limits: DecisionLimits;
  private readonly snapshots: SnapshotPolicy;
  private readonly follower: SharedJournalFollower | undefined;
  private readonly contention: AppendContention | undefined;
  readonly ready: Promise<void>;

  constructor(
    readonly ref: EntityRef,
    private readonly ctx: EntityContext,
    /** Resolves when a write made for this cache while it was not loaded is done. */
    private readonly after: Promise<void> = Promise.resolve(),
  ) {
    this.id = encodeEntityId(ref);
    this.lastTouched = ctx.now();
    this.limits = { quota: ctx.quota, caches: ctx.caches, maxEvents: ctx.maxEventsPerCommand };
    this.snapshots = new SnapshotPolicy(this, {
      snapshots: ctx.snapshots,
      every: ctx.snapshotEvery,
      bytes: ctx.snapshotBytes,
      report: (error) => ctx.journal.report(error),
      written: () => ctx.observer?.snapshotWritten(),
    });
    this.follower = ctx.journal.shared ? new SharedJournalFollower(this) : undefined;
    this.contention = ctx.journal.shared ? new AppendContention(this, this.follower, ctx.contentionMs ?? 0) : undefined;
    this.catchUp = new JournalCatchUp(this, ctx, () => this.follower?.caughtUp());
    this.actor.start();
    this.ready = this.recover();
    this.ready.catch(() => undefined); // reported by recover(); askers get a failure reply
  }

  /** The lifecycle machine's state (recovering, ready, passivating, passivated, failed). */
  get lifecycle(): LifecycleState {
    return this.actor.getSnapshot().value as LifecycleState;
  }

  get isReady(): boolean {
    return this.lifecycle === 'ready';
  }

  get isRecovering(): boolean {
    return this.lifecycle === 'recovering';
  }

  /** Whether there is a state to snapshot (not while recovering, nor after a failed recovery). */
  get snapshottable(): boolean {
    return this.lifecycle !== 'failed' && this.lifecycle !== 'recovering';
  }

  get isIdle(): boolean {
    return !this.draining && this.mailbox.length === 0;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get stale(): boolean {
    return this.catchUp.stale;
  }

  markStale(): void {
    this.catchUp.markStale();
  }

  /** Catches up from the journal between two groups. */
  catchUpBetweenGroups(): Promise<void> {
    return this.catchUp.between();
  }

  kick(): void {
    if (!this.draining && this.isReady) void this.drain();
  }

  ask(command: CacheCommand, options?: AskOptions): Promise<Reply> {
    this.lastTouched = this.ctx.now();
    if (this.lifecycle === 'failed') {
      return Promise.resolve({ ok: false, error: new JournalUnavailableError(new Error('cache could not be recovered')) });
    }
    return new Promise((resolve) => {
      this.mailbox.push({ command, options, resolve });
      this.kick();
    });
  }

  /**
   * The live value of a key, counted as use (LRU): the GET path of every family. Read from
   * the committed state only, with one lookup and nothing allocated for the touch.
   */
  useValue(key: string, now: number): Uint8Array | undefined {
    const value = useValue(this.state, key, now);
    if (value !== undefined) this.snapshots.used();
    return value;
  }

  /** `useValue` with the entry's version (IronCache's `cas`). */
  useEntry(key: string, now: number): Entry | undefined {
    const entry = useEntry(this.state, key, now);
    if (entry !== undefined) this.snapshots.used();
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
      const recovered = await recoverState(this.ref, this.ctx);
      this.state = recovered.state;
      this.seq = recovered.seq;
      this.snapshots.recovered(recovered.snapshotSeq, recovered.tailBytes);
      const now = this.ctx.now();
      for (const [key, expiresAt] of expiringKeys(this.state)) this.ctx.scheduler.schedule(this.ref, key, Math.max(expiresAt, now));
      this.actor.send({ type: 'RECOVERED' });
      this.follower?.applyQueued(); // other nodes' events that came while recovering
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
    while (this.mailbox.length > 0 || this.catchUp.requested) {
      if (this.catchUp.requested) {
        await this.catchUp.takeRequested();
        continue;
      }
      // One append per group on every journal (on NATS one message: see grouped-messages.ts).
      const group = this.mailbox.length <= MAX_BATCH ? this.mailbox.splice(0) : this.mailbox.splice(0, MAX_BATCH);
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

  /**
   * Decides a group on a draft, journals its events in one append, then applies them. A
   * command the group has no room for (the ledger's `later`) goes back to the mailbox's head
   * with the ones after it, so commands are still decided in the order they came. On a shared
   * journal a group another node beat to the cache is decided again once caught up (see
   * AppendContention); `lostSince` is when it first lost.
   */
  private async process(group: Ask[], attempt = 0, lostSince?: number): Promise<void> {
    await this.catchUp.beforeGroup(group);
    if (this.lifecycle === 'failed' || group.length === 0) return;
    const { org } = this.ref;
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
    const ledger = new GroupLedger(org, this.limits);
    let decided: DecidedGroup;
    try {
      decided = decideGroup(this.state, group, ledger, this.ctx.now());
    } catch (error) {
      // Only a draft was changed: give back what it held, and let drain fail the group.
      ledger.abandoned();
      throw error;
    }
    const { events, replies, later } = decided;
    if (later.length > 0) this.mailbox.unshift(...group.splice(group.length - later.length));

    let envelopes: Envelope[] = [];
    if (events.length > 0) {
      const groupSeq = this.seq;
      try {
        envelopes = await this.ctx.journal.append(this.ref, groupSeq, events);
      } catch (error) {
        ledger.abandoned();
        // A shared journal (NATS) may hold events this entity has not seen: another node wrote
        // first (a sequence conflict), or a failed append left part of its events written.
        const since = lostSince ?? performance.now();
        if (this.contention !== undefined && (await this.contention.again(error, groupSeq, since, attempt))) return this.process(group, attempt + 1, since);
        this.markStale();
        const failure: Reply = {
          ok: false,
          error: error instanceof JournalSequenceConflictError ? new JournalContendedError(this.ref, attempt + 1) : error instanceof JournalUnavailableError ? error : new JournalUnavailableError(error),
        };
        for (const { ask } of replies) ask.resolve(failure);
        this.follower?.applyQueued();
        return;
      }
      ledger.committed();
      for (const event of events) this.applyEvent(event);
      this.seq += events.length;
      this.lastOffset = envelopes[envelopes.length - 1].offset;
      this.snapshots.maybeSnapshot();
    }
    answerGroup(replies, envelopes);
    // A cut's further evictions, behind the commands that came meanwhile (see decideGroup's `next`).
    if (decided.next.length > 0) this.mailbox.push(...decided.next);
    this.follower?.applyQueued();
    if (this.state.status !== 'live') this.ctx.notLive?.(this.ref);
  }

  /** Applies one committed event to the state: its expiry scheduled, its bytes counted for the snapshot policy. */
  private applyEvent(event: CacheEvent): void {
    evolve(this.state, event);
    this.snapshots.journaled(event);
    if ((event.type === 'Set' || event.type === 'ExpiryChanged') && event.expiresAt !== 0) this.ctx.scheduler.schedule(this.ref, event.key, event.expiresAt);
  }

  /** Applies one event committed elsewhere (the journal read again, another node's write), the next seq. */
  applyCommitted(seq: number, event: CacheEvent, offset?: number): void {
    this.applyEvent(event);
    this.seq = seq;
    if (offset !== undefined) this.lastOffset = offset;
  }

  /** An event another node committed (a shared journal's follower hands it in, in stream order). */
  applyRemote(envelope: Envelope): void {
    this.follower?.applyRemote(envelope);
  }

  /**
   * Read-your-writes: resolves true once this entity is at `seq` or beyond (on a shared
   * journal, waiting up to `waitMs` for the follower first); false: the journal has no such seq.
   */
  async reach(seq: number, waitMs: number): Promise<boolean> {
    if (!this.isReady) await this.ready;
    if (seq <= this.seq) return true;
    if (this.follower !== undefined) return this.follower.reach(seq, waitMs);
    await this.catchUpBetweenGroups();
    return seq <= this.seq;
  }

  /** Writes a snapshot of the committed state if there are events since the last one. */
  snapshot(): Promise<void> {
    return this.snapshots.snapshot();
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
