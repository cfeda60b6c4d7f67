import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { ExportDigest } from '../../journal/export-trailer';
import { toNdjsonLine } from '../../journal/ndjson';
import { CliIo, configFor, openOffline } from '../io';
import { Progress } from '../progress';

export interface ExportOptions {
  readonly dataDir?: string;
  readonly org?: string;
  readonly cache?: string;
  /** A file; stdout when absent. */
  readonly out?: string;
}

/**
 * Writes events as NDJSON in global order (all caches, one org, or one cache), then the trailer
 * line (count and SHA-256 of the event lines) that import requires: an export cut short has none.
 */
export async function exportCommand(options: ExportOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const backend = await openOffline(config.dataDir);
  const { journal } = backend;
  const out: Writable = options.out ? createWriteStream(options.out, { flags: 'wx' }) : io.stdout;
  const progress = new Progress('export', journal.highestOffset, io.stderr);
  let events = 0;
  const digest = new ExportDigest();
  try {
    if (options.org !== undefined && options.cache !== undefined) {
      const through = await journal.compactedThrough({ org: options.org, name: options.cache });
      if (through > 0) io.stderr.write(`warning: this cache was compacted through seq ${through}; an import of this export will refuse the gaps (cachelog backup keeps them restorable)\n`);
    } else {
      // A whole instance (or org): name the compacted caches, whose events before the mark are gone.
      const compacted: string[] = [];
      for await (const { ref, through } of journal.compactedCaches()) {
        if (options.org === undefined || ref.org === options.org) compacted.push(`${JSON.stringify(ref.org)}/${JSON.stringify(ref.name)} through seq ${through}`);
      }
      if (compacted.length > 0) {
        io.stderr.write(
          `warning: ${compacted.length} cache(s) were compacted (${compacted.slice(0, 3).join(', ')}${compacted.length > 3 ? ', ...' : ''}): ` +
            'their events before the mark are gone, and an import of this export will refuse them. For a copy that restores everything, use cachelog backup\n',
        );
      }
    }
    for await (const chunk of journal.read(0)) {
      for (const { ref, seq, offset, event } of chunk) {
        progress.update(offset);
        if (options.org !== undefined && ref.org !== options.org) continue;
        if (options.cache !== undefined && ref.name !== options.cache) continue;
        const line = toNdjsonLine(ref, seq, event, offset);
        digest.add(line);
        if (!out.write(line)) await once(out, 'drain');
        events++;
      }
    }
    if (!out.write(digest.trailerLine())) await once(out, 'drain');
  } finally {
    progress.finish();
    if (options.out) {
      out.end();
      await once(out, 'close');
    }
    await backend.close();
  }
  io.stderr.write(`exported ${events} events${options.out ? ` to ${options.out}` : ''}\n`);
  return 0;
}
