import { Logger } from '@nestjs/common';
import { NOT_OPEN, storageFaultOf } from '../storage-fault';

/** What the healer needs of the storage it heals (the LevelDB Storage; kept narrow so neither file imports the other). */
export interface HealableStorage {
  readonly isOpen: boolean;
  readonly isClosed: boolean;
  reopen(): Promise<void>;
  probeWrite(): Promise<void>;
}

/** The first wait before reopening after a fault; it doubles up to the configured maximum. */
const FIRST_BACKOFF_MS = 100;

/**
 * After a failed write, LevelDB keeps refusing writes until it is reopened (a failed sync
 * poisons the handle), and a read that fails the same way (a closed handle, an I/O error)
 * means the same. Every storage operation reports its failures here: writes (journal,
 * snapshots, projections, task records) and reads (recovery of a cache, read models,
 * history, tasks, and whatever else reaches a client as a storage error). The healer closes and reopens the database, with backoff, until a
 * synced probe write succeeds: writes then resume without a restart. Meanwhile `healing`
 * is true and writers fail fast instead of piling onto a broken handle.
 */
export class StorageHealer {
  private readonly logger = new Logger('Storage');
  private current: Promise<void> | undefined;
  /** A probe write under way after a read fault on an open database (see `report`). */
  private checking: Promise<void> | undefined;
  /** The newest fault reported (what fail-fast refusals name while the database is reopened). */
  lastFault: unknown;
  private wake: (() => void) | undefined;

  constructor(
    private readonly storage: HealableStorage,
    private readonly maxBackoffMs = 5000,
  ) {}

  get healing(): boolean {
    return this.current !== undefined;
  }

  /** Resolves once the storage takes writes again (or is closed for good). */
  get healed(): Promise<void> {
    return this.checking !== undefined ? this.checking.then(() => this.healed) : (this.current ?? Promise.resolve());
  }

  /** Stops reopening (a clean shutdown): resolves once no reopen is under way. */
  stop(): Promise<void> {
    this.wake?.();
    return this.healed;
  }

  /** A write failed: starts reopening (once; later failures join the running attempt). */
  failed(cause: unknown): void {
    this.start(cause, storageFaultOf(cause)?.code);
  }

  /**
   * Any operation failed (a read, or a write reported again on its way to a client):
   * starts reopening when the error is a storage fault, else does nothing.
   */
  report(error: unknown): void {
    const fault = storageFaultOf(error);
    if (fault === undefined || this.current !== undefined || this.storage.isClosed) return;
    if (NOT_OPEN.test(fault.code) || !this.storage.isOpen) return this.start(error, fault.code);
    // An I/O error of a read on an open database: a reopen stalls every other operation, and
    // one tenant's reads of a damaged record could repeat it at will. A synced probe write
    // decides instead: only when it fails too is the database reopened.
    this.checking ??= this.storage
      .probeWrite()
      .catch((probeError: unknown) => this.start(probeError, storageFaultOf(probeError)?.code))
      .finally(() => (this.checking = undefined));
  }

  private start(cause: unknown, code: string | undefined): void {
    if (this.current !== undefined || this.storage.isClosed) return;
    // A "not open" error from an operation that raced a reopen which has since finished: nothing to heal.
    if (code !== undefined && NOT_OPEN.test(code) && this.storage.isOpen) return;
    this.lastFault = cause;
    this.logger.error(`a storage operation failed (${(cause as Error)?.message ?? String(cause)}); reopening the database until storage is back`);
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
