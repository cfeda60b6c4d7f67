import { Logger } from '@nestjs/common';
import { CacheEvent } from '../domain';
import { JournalUnavailableError } from '../journal/journal';
import { EntityRef } from '../journal/keys';
import { Ask, EntityContext, Reply, SequenceGapError } from './entity-context';

/** What catching up needs of its entity. */
export interface CatchingUp {
  readonly ref: EntityRef;
  readonly seq: number;
  applyCommitted(seq: number, event: CacheEvent): void;
  /** Runs the mailbox if it is not running (a requested catch-up is taken between two groups). */
  kick(): void;
}

/**
 * Whether the journal may hold events an entity has not applied (an append that failed
 * part-way, another node's write), and catching up from it: only between two groups, never
 * under a draft. A stale entity catches up before it decides its next group.
 */
export class JournalCatchUp {
  private readonly logger = new Logger('CacheEntity');
  private isStale = false;
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(
    private readonly entity: CatchingUp,
    private readonly ctx: Pick<EntityContext, 'journal'>,
    /** Told when the entity is at the journal's end again (the shared journal's follower). */
    private readonly caughtUp: () => void,
  ) {}

  get stale(): boolean {
    return this.isStale;
  }

  markStale(): void {
    this.isStale = true;
  }

  /** Whether a catch-up was asked for (`between`) and waits for the mailbox to take it. */
  get requested(): boolean {
    return this.waiters.length > 0;
  }

  /**
   * Catches up between two groups; resolves once done. A failed catch-up is logged and rejects
   * with JournalUnavailableError (the entity stays stale): a seq the journal holds but could not
   * be read now is unavailable (503), never "not reached".
   */
  between(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.isStale = true;
      this.waiters.push({ resolve, reject });
      this.entity.kick();
    });
  }

  /** The mailbox's turn for the requested catch-ups. */
  async takeRequested(): Promise<void> {
    const waiters = this.waiters.splice(0);
    try {
      await this.run();
    } catch (error) {
      this.logger.warn(`catching ${JSON.stringify(this.entity.ref)} up failed: ${(error as Error).message}`);
      const failure = error instanceof JournalUnavailableError ? error : new JournalUnavailableError(error);
      for (const { reject } of waiters) reject(failure);
      return;
    }
    for (const { resolve } of waiters) resolve();
  }

  /** Before a group is decided: a stale entity catches up, or fails the group (503; the next command tries again). */
  async beforeGroup(group: Ask[]): Promise<void> {
    if (!this.isStale) return;
    try {
      await this.run();
    } catch (error) {
      const failure: Reply = { ok: false, error: new JournalUnavailableError(error) };
      for (const ask of group.splice(0)) ask.resolve(failure);
    }
  }

  /** Reads the journal from the entity's seq on. */
  private async run(): Promise<void> {
    const entity = this.entity;
    await this.ctx.journal.forEachEvent(entity.ref, entity.seq + 1, (recordSeq, event) => {
      if (recordSeq !== entity.seq + 1) throw new SequenceGapError(`journal of ${JSON.stringify(entity.ref)} jumps from seq ${entity.seq} to ${recordSeq}`);
      entity.applyCommitted(recordSeq, event);
    });
    this.isStale = false;
    this.caughtUp();
  }
}
