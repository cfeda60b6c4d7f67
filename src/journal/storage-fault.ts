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
