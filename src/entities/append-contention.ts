import { JournalSequenceConflictError } from '../journal/journal';

/** What a lost race needs of its entity. */
export interface ContendingEntity {
  readonly seq: number;
  /** The journal holds events the entity has not applied: the next decision catches up first. */
  markStale(): void;
}

/** What a lost race needs of the shared journal's follower (see SharedJournalFollower). */
export interface ContentionFollower {
  /** Waits up to `waitMs` for the follower to bring the entity to `seq`; marks it stale if it does not. */
  awaitSeq(seq: number, waitMs: number): Promise<void>;
}

/** Longest pause before deciding again when a conflict showed no other writer's progress. */
const MAX_PAUSE_MS = 200;

/**
 * On a shared journal (NATS), an append that another node beat to the cache's next seq is
 * not an error: the entity catches up (the follower brings the winner's events, or else the
 * next decision reads them from the journal) and decides the same commands again on the
 * caught-up state, publishing with the new expectation (the fence stays the
 * expected-last-subject-sequence check). That repeats for as long as other writers make
 * progress, up to `windowMs` (wall time) after the group first lost (NATS_TIMEOUT_MS, the bound of one
 * publish): only a cluster that makes no progress for that long answers 503 JOURNAL_CONTENDED.
 * A conflict that shows no other writer's progress (the cache's head did not move) pauses a
 * little before the next try, so a fault is not a hot loop.
 */
export class AppendContention {
  constructor(
    private readonly entity: ContendingEntity,
    private readonly follower: ContentionFollower | undefined,
    private readonly windowMs: number,
    /** Wall time (a bound on how long a request waits, not the cache's clock). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Whether the group that met `error` is decided again: true once the entity has caught up
   * or will before its next decision; false when the conflict is not at the group's first
   * seq (part of the group may be written: deciding it again could apply it twice) or the
   * window since `lostSince` is over.
   */
  async again(error: unknown, groupSeq: number, lostSince: number, attempt: number): Promise<boolean> {
    if (!(error instanceof JournalSequenceConflictError) || error.expectedSeq !== groupSeq) return false;
    const left = lostSince + this.windowMs - this.now();
    if (left <= 0) return false;
    if (error.actualSeq <= groupSeq) {
      // Nobody else moved the cache: not a race another writer won. Pause (growing, jittered).
      const pause = Math.min(left, MAX_PAUSE_MS, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, pause));
      this.entity.markStale();
      return true;
    }
    if (this.follower !== undefined) await this.follower.awaitSeq(error.actualSeq, left);
    else this.entity.markStale();
    return true;
  }
}
