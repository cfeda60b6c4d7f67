/* eslint-disable @typescript-eslint/no-require-imports */
import { join } from 'node:path';

/** Removes every snapshot from a data directory, so the next start replays the whole journal. */
const { Storage } = require(join(__dirname, '..', '..', '..', 'dist', 'journal', 'storage'));

async function main(): Promise<void> {
  const storage = new Storage(process.argv[2]);
  await storage.open();
  await storage.snapshots.clear();
  await storage.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
