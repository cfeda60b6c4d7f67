import { CacheNamesProjection } from '../../projections/cache-names.projection';
import { EventOffsetsProjection } from '../../projections/event-offsets.projection';
import { KeyListingProjection } from '../../projections/key-listing.projection';
import { ProjectionRunner } from '../../projections/projection-runner';
import { CliIo, configFor, openOffline, write } from '../io';

export interface RebuildOptions {
  readonly dataDir?: string;
}

/**
 * Rebuilds every read model (key listing, cache names, event offsets) from the whole
 * journal. An operator's action, offline: the server is stopped, so no reader sees a read
 * model while it is empty or partial. A tenant's `rebuild` task only rebuilds its own
 * cache's rows.
 */
export async function rebuildCommand(options: RebuildOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const { storage, journal, close } = await openOffline(config.dataDir);
  try {
    for (const projection of [new KeyListingProjection(storage), new CacheNamesProjection(storage), new EventOffsetsProjection(storage)]) {
      const runner = new ProjectionRunner(storage, journal, projection);
      await runner.start();
      await runner.rebuild();
      runner.stop();
      await write(io.stdout, `rebuilt ${projection.name} through offset ${runner.appliedOffset}\n`);
    }
    return 0;
  } finally {
    await close();
  }
}
