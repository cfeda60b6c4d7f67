import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EntityRef } from '../journal/keys';

/** Hex characters of a hash used in a file name: short, and still no collision in practice. */
const HASH_CHARS = 16;

const shortHash = (parts: readonly string[]): string =>
  // JSON of the tuple: ("a", "b c") and ("a b", "c") never hash the same input.
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, HASH_CHARS);

/**
 * Where a cache's export goes, relative to DATA_DIR: `exports/<org hash>/<cache hash>.<task id>.ndjson`.
 * No part comes from what a client typed beyond a hash, so a name of any length or script
 * makes a file name of a fixed, short length (finding: a 220-character name made one over
 * 255 bytes and the write stream's error ended the process).
 */
export function exportPath(ref: EntityRef, taskId: string): { dir: string; file: string } {
  const dir = join('exports', shortHash([ref.org]));
  return { dir, file: join(dir, `${shortHash([ref.org, ref.name])}.${taskId}.ndjson`) };
}

/** The directory (relative to DATA_DIR) of an org's exports. */
export const orgExportDir = (org: string): string => join('exports', shortHash([org]));

/** Where the instance's backups go: beside the orgs' directories (never 16 hex characters). */
const INSTANCE_BACKUP_DIR = join('exports', 'instance');

/**
 * Where a backup task's file goes, relative to DATA_DIR: an org's beside its exports (counted
 * with them against MAX_EXPORT_BYTES_PER_ORG, pruned with them), the instance's in
 * `exports/instance/`. Written as `<file>.partial` first, like an export.
 */
export function backupPath(org: string, scope: 'org' | 'instance', taskId: string): { dir: string; file: string } {
  const dir = scope === 'instance' ? INSTANCE_BACKUP_DIR : orgExportDir(org);
  return { dir, file: join(dir, `backup.${taskId}.cachelog-backup`) };
}

/** Whether a file beside the database (relative, `/`-separated) is a backup's or a partial file: never in a backup. */
export const isBackupOrPartial = (path: string): boolean => /^exports\/[^/]+\/backup\.[^/]+\.cachelog-backup(\.partial)?$/.test(path) || path.endsWith(PARTIAL_SUFFIX);

export class ExportLimitError extends Error {
  readonly code = 'EXPORT_LIMIT_EXCEEDED';
}

/** Bytes of the files in a directory (0 when it does not exist). */
export async function bytesIn(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of names) total += await stat(join(dir, name)).then((s) => s.size, () => 0);
  return total;
}

/** The suffix of an export being written: the file gets its name only once it is complete. */
export const PARTIAL_SUFFIX = '.partial';

/**
 * Removes what exports cut short by a crash left under `dataDir/exports` (files still named
 * `*.partial`): they are not exports, and must not count against MAX_EXPORT_BYTES_PER_ORG.
 * Call before any export runs. Returns how many were removed.
 */
export async function removePartialExports(dataDir: string): Promise<number> {
  let removed = 0;
  const root = join(dataDir, 'exports');
  for (const org of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, org)).catch(() => [] as string[])) {
      if (!name.endsWith(PARTIAL_SUFFIX)) continue;
      await rm(join(root, org, name), { force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Writes `lines` to a new file (never overwriting one), as `<path>.partial` renamed to `path`
 * once every line is written: a crash part-way leaves only a `.partial` file, which
 * removePartialExports deletes at the next start. `take(bytes)` is asked before each line and
 * may refuse it (a byte limit). Every error, the stream's `error` event included, rejects the
 * promise; a write that fails or is refused leaves no partial file behind.
 */
export async function writeNewFile(path: string, lines: AsyncIterable<string>, take: (bytes: number) => boolean = () => true): Promise<number> {
  await mkdir(join(path, '..'), { recursive: true });
  const partial = path + PARTIAL_SUFFIX;
  if (await stat(path).then(() => true, () => false)) throw Object.assign(new Error(`EEXIST: file already exists, open '${path}'`), { code: 'EEXIST' });
  const out = createWriteStream(partial, { flags: 'wx' });
  let failure: Error | undefined;
  // Registered before the first write: an unhandled `error` event would end the process.
  const failed = new Promise<never>((_, reject) => out.on('error', (error) => reject((failure = error))));
  failed.catch(() => undefined);
  let written = 0;
  let created = false;
  try {
    await Promise.race([new Promise<void>((resolve) => out.once('open', () => resolve())), failed]);
    created = true; // from here on the file is ours to remove
    for await (const line of lines) {
      if (failure) throw failure;
      const bytes = Buffer.byteLength(line);
      if (!take(bytes)) throw new ExportLimitError("the export would pass the org's limit of export bytes on disk (MAX_EXPORT_BYTES_PER_ORG)");
      written += bytes;
      if (!out.write(line)) await Promise.race([new Promise<void>((resolve) => out.once('drain', () => resolve())), failed]);
    }
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
    await rename(partial, path);
    return written;
  } catch (error) {
    out.destroy();
    await new Promise<void>((resolve) => (out.closed ? resolve() : out.once('close', () => resolve())));
    if (created) await rm(partial, { force: true }).catch(() => undefined);
    throw error;
  }
}
