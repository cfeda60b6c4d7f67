/* eslint-disable @typescript-eslint/no-require-imports */
import { join } from 'node:path';

/**
 * Removes every snapshot from a data directory, so the next start replays the whole journal.
 * With `--settle`, only opens and closes it: LevelDB then writes its recovered log to a
 * table, so a timed start is not charged for the fill's last unflushed writes.
 */
const { Storage } = require(join(__dirname, '..', '..', '..', 'dist', 'journal', 'leveldb', 'storage'));

async function main(): Promise<void> {
  const storage = new Storage(process.argv[2]);
  await storage.open();
  if (!process.argv.includes('--settle')) {
    await storage.snapshots.clear();
    await storage.snapshotChunks.clear();
  }
  await storage.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
