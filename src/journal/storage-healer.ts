import { Logger } from '@nestjs/common';
import type { Storage } from './storage';

/** The first wait before reopening after a fault; it doubles up to the configured maximum. */
const FIRST_BACKOFF_MS = 100;

/**
 * What a client may read about a storage fault: its kind, never the server's file paths
 * (LevelDB's messages carry them; the log keeps the full message).
 */
export function describeStorageFault(cause: unknown): string {
  const text = `${(cause as { code?: string })?.code ?? ''} ${(cause as Error)?.message ?? String(cause)}`;
  if (/ENOSPC|No space left/i.test(text)) return 'No space left on device';
  if (/EIO|Input\/output error/i.test(text)) return 'I/O error';
  if (/EDQUOT|quota/i.test(text)) return 'disk quota exceeded';
  if (/EROFS|read-only/i.test(text)) return 'read-only file system';
  if (/NOT_OPEN|not open/i.test(text)) return 'the database is not open';
  return 'storage error';
}

/** LevelDB's and the OS's codes for storage that is broken or not open (not a bad key or a decoding error). */
const FAULT_CODES = new Set(['LEVEL_IO_ERROR', 'LEVEL_CORRUPTION', 'LEVEL_LOCKED', 'LEVEL_STATUS_LOCKED', 'EIO', 'ENOSPC', 'EDQUOT', 'EROFS']);
/** Faults that only say the handle is (or was, during a reopen) not open. */
const NOT_OPEN = /^LEVEL_(DATABASE|ITERATOR|BATCH|SNAPSHOT)_NOT_OPEN$/;

/**
 * The storage error behind `error` (itself, or the cause a service error wraps), when it
 * says the storage is broken or not open; undefined for anything else.
 */
export function storageFaultOf(error: unknown): { readonly code: string } | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (FAULT_CODES.has(e.code) || NOT_OPEN.test(e.code))) return e as { code: string };
  }
  return undefined;
}

/**
 * A read could not reach the storage (503 `STORAGE_UNAVAILABLE`): the database is being
 * reopened after a fault, or reads fail too. Only the fault's kind is in the message.
 */
export class StorageUnavailableError extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
  constructor(readonly cause: unknown) {
    super(`storage is unavailable (${describeStorageFault(cause)}); try again, it reopens by itself once storage is back`);
  }
}

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
    private readonly storage: Storage,
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
