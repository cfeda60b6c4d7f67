import { Writable } from 'node:stream';
import { AppConfig, loadConfig } from '../config/config';
import { Journal } from '../journal/journal';
import { Storage } from '../journal/storage';

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

/** Opens the data directory's LevelDB directly (the server must not be running on it). */
export async function openOffline(dataDir: string): Promise<{ storage: Storage; journal: Journal; close: () => Promise<void> }> {
  const storage = new Storage(dataDir);
  try {
    await storage.open();
  } catch (error) {
    await storage.close().catch(() => undefined);
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new CliError(`cannot open ${dataDir}: ${cause} (is a server running on this data directory?)`);
  }
  const journal = new Journal(storage, 'none');
  await journal.open();
  return { storage, journal, close: () => storage.close() };
}

export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}
