import { CliIo, configFor, openOffline, write } from '../io';
import { Progress } from '../progress';

export interface RebuildOptions {
  readonly dataDir?: string;
}

/**
 * Rebuilds every inline read model (key listing, cache names, org byte totals, expiry
 * index, event offsets) from the whole journal, and clears the runner projections' rows and
 * offsets so they rebuild on the next start. An operator's action, offline: the server is
 * stopped, so no reader sees a read model while it is empty or partial. A tenant's
 * `rebuild` task only repairs its own cache's rows.
 */
export async function rebuildCommand(options: RebuildOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const backend = await openOffline(config.dataDir);
  try {
    // Like export and import: a bar on a terminal, by global offset through the journal.
    const progress = new Progress('rebuild', backend.journal.highestOffset, io.stderr);
    await backend.rebuildReadModels(progress);
    progress.finish();
    await write(io.stdout, `rebuilt key-listing, cache-names, org-bytes, expiry-index and event-offsets through offset ${backend.journal.highestOffset}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}
