import { parseSeqOrTime } from '../../core/point';
import { CataloguedError } from '../../core/error-catalogue';
import { HistoryGoneError, stateAt } from '../../journal/history';
import { CliError, CliIo, configFor, openOffline, write } from '../io';

export interface ReplayOptions {
  readonly dataDir?: string;
  readonly org: string;
  readonly cache: string;
  /** A sequence number or an ISO time; the newest state when absent. */
  readonly to?: string;
}

/** Prints a cache's state at a point (from the nearest snapshot at or before it) as JSON. */
export async function replayCommand(options: ReplayOptions, io: CliIo): Promise<number> {
  let point;
  try {
    point = options.to !== undefined ? parseSeqOrTime(options.to) : undefined;
  } catch (error) {
    if (error instanceof CataloguedError) throw new CliError(`--to: must be a sequence number or an ISO time, got "${options.to}"`, 2);
    throw error;
  }
  const config = configFor(io, options.dataDir);
  const backend = await openOffline(config.dataDir);
  const { journal, snapshots } = backend;
  try {
    const ref = { org: options.org, name: options.cache };
    const highest = await journal.highestSeq(ref);
    if (highest === 0) throw new CliError(`no events for cache ${JSON.stringify(options.cache)} of org ${JSON.stringify(options.org)}`);
    const seq = point === undefined ? highest : point.kind === 'seq' ? point.seq : await journal.seqAtTime(ref, point.time);
    if (seq > highest) throw new CliError(`--to: the cache's newest event is seq ${highest}`);
    const { state, time } = await stateAt(journal, snapshots, ref, seq);
    const entries = [...state.entries.entries()].map(([key, entry]) => ({
      key,
      value: Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength).toString('base64'),
      expiresAt: entry.expiresAt === 0 ? null : new Date(entry.expiresAt).toISOString(),
      version: entry.version,
    }));
    const out = {
      org: options.org,
      cacheName: options.cache,
      seq,
      time: time !== undefined ? new Date(time).toISOString() : null,
      status: state.status,
      description: state.description,
      bytes: state.bytes,
      entries,
    };
    await write(io.stdout, JSON.stringify(out, null, 2) + '\n');
    return 0;
  } catch (error) {
    if (error instanceof HistoryGoneError) throw new CliError(error.message);
    throw error;
  } finally {
    await backend.close();
  }
}
