import { Logger } from '@nestjs/common';
import type { Storage } from './storage';

/** The first wait before reopening after a fault; it doubles up to the configured maximum. */
const FIRST_BACKOFF_MS = 100;

/**
 * After a failed write, LevelDB keeps refusing writes until it is reopened (a failed sync
 * poisons the handle). Every writer (journal, projections, task records) reports its
 * failed writes here. The healer closes and reopens the database, with backoff, until a
 * synced probe write succeeds: writes then resume without a restart. Meanwhile `healing`
 * is true and writers fail fast instead of piling onto a broken handle.
 */
export class StorageHealer {
  private readonly logger = new Logger('Storage');
  private current: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly maxBackoffMs = 5000,
  ) {}

  get healing(): boolean {
    return this.current !== undefined;
  }

  /** Resolves once the storage takes writes again (or is closed for good). */
  get healed(): Promise<void> {
    return this.current ?? Promise.resolve();
  }

  /** Stops reopening (a clean shutdown): resolves once no reopen is under way. */
  stop(): Promise<void> {
    this.wake?.();
    return this.healed;
  }

  /** A write failed: starts reopening (once; later failures join the running attempt). */
  failed(cause: unknown): void {
    if (this.current !== undefined || this.storage.isClosed) return;
    this.logger.error(`a write failed (${(cause as Error)?.message ?? String(cause)}); reopening the database until storage is back`);
    this.current = this.heal().finally(() => (this.current = undefined));
  }

  private async heal(): Promise<void> {
    let wait = FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.storage.isClosed) return; // shut down meanwhile
      try {
        await this.storage.reopen();
        await this.storage.probeWrite();
        this.logger.log(`storage is back after ${attempt} attempt(s): writes resume`);
        return;
      } catch (error) {
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`storage still failing (attempt ${attempt}): ${(error as Error).message}`);
        wait = Math.min(wait * 2, this.maxBackoffMs);
      }
    }
  }
}
