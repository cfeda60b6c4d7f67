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
 * Offline tools write with sync off and force it to disk once at the end.
 */
export async function openOffline(dataDir: string): Promise<LevelDbBackend> {
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
