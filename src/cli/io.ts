import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AppConfig, loadConfig } from '../config/config';
import { LevelDbBackend } from '../journal/leveldb/leveldb-backend';

/** Where a command writes; tests pass their own streams. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** A command failed in a way the operator can fix; printed without a stack, exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function configFor(io: CliIo, dataDir: string | undefined): AppConfig {
  return loadConfig({ ...io.env, ...(dataDir !== undefined ? { DATA_DIR: dataDir } : {}) });
}

/**
 * Opens the data directory's LevelDB directly (the server must not be running on it).
 * Offline tools write with sync off and force it to disk once at the end. Only `import`
 * (`create`) may start a database here (`restore` starts one of its own); a command that reads refuses a directory that does not
 * exist or holds no database, and creates nothing (a mistyped --data-dir is not an empty one).
 */
export async function openOffline(dataDir: string, options: { create?: boolean } = {}): Promise<LevelDbBackend> {
  if (!options.create) {
    if (!existsSync(dataDir)) throw new CliError(`${dataDir} does not exist: --data-dir (or DATA_DIR) must name the server's data directory`);
    if (!statSync(dataDir).isDirectory()) throw new CliError(`${dataDir} is not a directory`);
    // LevelDB's CURRENT names the live manifest: every database has it from its first open.
    if (!existsSync(join(dataDir, 'CURRENT'))) throw new CliError(`${dataDir} holds no cachelog database: --data-dir (or DATA_DIR) must name the server's data directory`);
  }
  const backend = new LevelDbBackend(dataDir, { sync: 'none' });
  try {
    await backend.open();
  } catch (error) {
    await backend.close().catch(() => undefined);
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new CliError(`cannot open ${dataDir}: ${cause} (is a server running on this data directory?)`);
  }
  return backend;
}

export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}
