import { Logger } from '@nestjs/common';
import { InlineReadModels } from '../journal/inline-read-models';
import { EntityRegistry } from './entity-registry';

/** Due index rows handled per page, and pages per sweep (a sweep's work is bounded). */
const PAGE = 1000;
const PAGES_PER_SWEEP = 50;
/** How often the expiry index is swept for caches that are not loaded. */
export const EXPIRY_SWEEP_MS = 1000;

/**
 * Journals the expiries that fell due in caches that are not in memory (the loaded ones
 * have their keys on the expiry scheduler's heap too), from the journal's expiry index:
 * at start, right away, for what fell due while the process was down, and then every
 * second. No cache is loaded for it. Reads never serve an expired entry meanwhile: they
 * check `expiresAt` themselves.
 */
export class ExpirySweeper {
  private readonly logger = new Logger('ExpirySweeper');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly readModels: InlineReadModels,
    private readonly registry: EntityRegistry,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Runs one sweep now (or returns the running one). */
  sweep(): Promise<void> {
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    void this.sweep().finally(() => {
      if (this.stopped) return;
      this.timer = setTimeout(() => this.kick(), EXPIRY_SWEEP_MS);
      this.timer.unref();
    });
  }

  private async sweepOnce(): Promise<void> {
    try {
      for (let page = 0; page < PAGES_PER_SWEEP && !this.stopped; page++) {
        const due = await this.readModels.dueExpiries(this.now(), PAGE);
        if (due.length === 0) return;
        await this.registry.expireDue(due);
        if (due.length < PAGE) return;
      }
    } catch (error) {
      this.logger.warn(`expiry sweep failed: ${(error as Error).message}; retried in ${EXPIRY_SWEEP_MS} ms`);
    }
  }

  /** Stops sweeping and waits for a sweep under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
