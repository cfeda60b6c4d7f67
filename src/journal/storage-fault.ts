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
export const NOT_OPEN = /^LEVEL_(DATABASE|ITERATOR|BATCH|SNAPSHOT)_NOT_OPEN$/;

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
