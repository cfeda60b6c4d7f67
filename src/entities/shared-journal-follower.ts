import { CacheEvent } from '../domain';
import { Envelope } from '../journal/journal';

/** How long a conflicting write waits for the winner's events to come through the follower. */
const FOLLOWER_WAIT_MS = 500;

/** What the follower reads and asks of its entity. */
export interface FollowedEntity {
  readonly seq: number;
  readonly isReady: boolean;
  /** Recovering from the journal: remote events wait until it is done (they may be past what it read). */
  readonly isRecovering: boolean;
  /** A group is being decided and journaled: remote events wait until it is done. */
  readonly isDraining: boolean;
  /** Applies one committed event (the next seq) to the committed state. */
  applyCommitted(seq: number, event: CacheEvent, offset: number): void;
  /** The journal holds events the entity has not applied: catch up before the next decision. */
  markStale(): void;
  readonly stale: boolean;
  /** Catches up from the journal between groups; resolves when done, rejects when the journal could not be read. */
  catchUpBetweenGroups(): Promise<void>;
}

/**
 * Keeps one entity current on a shared journal (NATS), where other nodes write too: events
 * the journal's follower hands in are applied in seq order (queued while a group is being
 * decided or the entity recovers), a conflicting write first waits briefly for the winner's
 * events, and a read with `minSeq` waits for the follower before reading the journal. A gap
 * (an event missed) makes the entity catch up from the journal at once, between groups: left
 * stale, it would serve plain reads an old state until its next write. An entity on the
 * embedded journal, the only writer of its cache, has none of this.
 */
export class SharedJournalFollower {
  private queue: Envelope[] = [];
  private catchingUp = false;
  private arrived: (() => void) | undefined;
  private seqWaiters: Array<{ seq: number; resolve: () => void }> = [];

  constructor(private readonly entity: FollowedEntity) {}

  /**
   * An event another node committed, in stream order: applied at once when it is the next
   * seq and no group is being decided, else queued until the group is done; a gap marks the
   * entity stale (caught up before the next command, or by `reach()`).
   */
  applyRemote(envelope: Envelope): void {
    const entity = this.entity;
    if (entity.isRecovering) {
      this.queue.push(envelope);
      return;
    }
    if (!entity.isReady || envelope.seq <= entity.seq) return;
    if (entity.isDraining) {
      this.queue.push(envelope);
      this.arrived?.();
      return;
    }
    if (envelope.seq !== entity.seq + 1) {
      this.missed();
      return;
    }
    entity.applyCommitted(envelope.seq, envelope.event, envelope.offset);
    this.advanced();
  }

  /** Applies what arrived while a group was being decided or the entity recovered (after it). */
  applyQueued(): void {
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    const entity = this.entity;
    for (const envelope of queued) {
      if (envelope.seq <= entity.seq) continue;
      if (envelope.seq !== entity.seq + 1) {
        this.missed();
        break;
      }
      entity.applyCommitted(envelope.seq, envelope.event, envelope.offset);
    }
    this.advanced();
  }

  /** The journal was read from the entity's seq on: what was queued is in it, or past it (arrived meanwhile). */
  caughtUp(): void {
    this.applyQueued();
    this.advanced();
  }

  /** An event was missed: the entity is stale, and catches up from the journal between groups (one at a time). */
  private missed(): void {
    this.entity.markStale();
    if (this.catchingUp) return;
    this.catchingUp = true;
    this.entity
      .catchUpBetweenGroups()
      .catch(() => undefined) // logged by the catch-up; the entity stays stale and the next gap asks again
      .finally(() => (this.catchingUp = false));
  }

  /**
   * After a sequence conflict: the winner's events are usually on their way through the
   * follower already, so wait briefly for them (cheap; at most `waitMs`) before reading the
   * cache's log from the journal (a scan of its subject).
   */
  async awaitSeq(targetSeq: number, waitMs = FOLLOWER_WAIT_MS): Promise<void> {
    const until = Date.now() + Math.min(waitMs, FOLLOWER_WAIT_MS);
    const entity = this.entity;
    for (;;) {
      this.applyQueued();
      if (entity.stale || entity.seq >= targetSeq || Date.now() >= until) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.arrived = undefined;
    }
    if (entity.seq < targetSeq) entity.markStale(); // the next group catches up from the journal
  }

  /**
   * Read-your-writes: true once the entity is at `seq` or beyond: at once, or when the
   * follower brings it within `waitMs`, or else after catching up from the journal (between
   * groups). False: the journal has no such seq. Rejects (JournalUnavailableError) when the
   * journal could not be read.
   */
  async reach(seq: number, waitMs: number): Promise<boolean> {
    const entity = this.entity;
    if (seq <= entity.seq) return true;
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
    entity.markStale();
    await entity.catchUpBetweenGroups();
    return seq <= entity.seq;
  }

  private advanced(): void {
    if (this.seqWaiters.length === 0) return;
    const still: typeof this.seqWaiters = [];
    for (const waiter of this.seqWaiters) (waiter.seq <= this.entity.seq ? waiter.resolve() : still.push(waiter));
    this.seqWaiters = still;
  }
}
