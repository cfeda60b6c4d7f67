import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BackupFormatError, readBackup, writeBackup } from '../../journal/leveldb/backup';
import { Storage } from '../../journal/leveldb/storage';
import { CliError, CliIo, configFor, openOffline } from '../io';
import { Progress } from '../progress';

export interface BackupOptions {
  readonly dataDir?: string;
  readonly out: string;
}

/**
 * Writes a backup of a stopped server's whole data directory (see journal/leveldb/backup.ts):
 * everything an `export` leaves out — snapshots, compaction marks, read models, task records,
 * the generated secret — so that `restore` gives the same service back.
 */
export async function backupCommand(options: BackupOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const backend = await openOffline(config.dataDir);
  if (existsSync(options.out)) {
    await backend.close();
    throw new CliError(`${options.out} already exists: a backup is never written over a file`);
  }
  try {
    const progress = new Progress('backup', 0, io.stderr);
    const counts = await writeBackup(backend.storage, config.dataDir, options.out, (entries) => progress.update(entries));
    progress.finish();
    io.stderr.write(`backed up ${counts.entries} database entries and ${counts.files} files of ${config.dataDir} to ${options.out} (${counts.bytes} bytes)\n`);
    return 0;
  } finally {
    await backend.close();
  }
}

export interface RestoreOptions {
  readonly dataDir?: string;
  readonly in: string;
}

const BATCH_BYTES = 4 << 20;

/**
 * Restores a backup into a data directory that does not exist or is empty. The whole file is
 * checked first (its CRC, lengths and end); only then is anything written.
 */
export async function restoreCommand(options: RestoreOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const target = config.dataDir;
  if (!existsSync(options.in)) throw new CliError(`cannot read ${options.in}`);
  if (existsSync(target) && readdirSync(target).length > 0) throw new CliError(`${target} is not empty: restore only into a new or empty data directory`);

  let total = 0;
  try {
    const check = readBackup(options.in);
    for (let next = await check.next(); !next.done; next = await check.next()) if (next.value.kind === 'entry') total++;
  } catch (error) {
    if (error instanceof BackupFormatError) throw new CliError(`${options.in}: ${error.message}; nothing restored`);
    throw error;
  }

  const storage = new Storage(target);
  await storage.db.open();
  const progress = new Progress('restore', total, io.stderr);
  let entries = 0;
  let files = 0;
  try {
    let batch: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
    let bytes = 0;
    const flush = async (sync: boolean) => {
      await storage.db.batch(batch as never, { sync } as never);
      entries += batch.length;
      progress.update(entries);
      batch = [];
      bytes = 0;
    };
    for await (const record of readBackup(options.in)) {
      if (record.kind === 'entry') {
        batch.push({ type: 'put', key: record.key, value: record.value });
        bytes += record.key.length + record.value.length;
        if (bytes >= BATCH_BYTES) await flush(false);
      } else {
        const path = join(target, ...record.path.split('/'));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, record.bytes, { mode: record.mode, flag: 'wx' });
        files++;
      }
    }
    await flush(true);
    progress.finish();
  } finally {
    await storage.close();
  }
  io.stderr.write(`restored ${entries} database entries and ${files} files into ${target}\n`);
  return 0;
}
