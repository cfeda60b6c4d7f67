import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { CacheEvent } from '../../domain';
import { EntityRef } from '../../journal/keys';
import { NdjsonError, fromNdjsonLine } from '../../journal/ndjson';
import { CliError, CliIo, configFor, openOffline } from '../io';
import { Progress } from '../progress';

export interface ImportOptions {
  readonly dataDir?: string;
  /** An NDJSON file (as `export` writes). */
  readonly in: string;
}

const RUN = 500;

async function* lines(file: string): AsyncGenerator<{ text: string; lineNo: number; bytes: number }> {
  const input: Readable = createReadStream(file);
  let lineNo = 0;
  let bytes = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() !== '') yield { text, lineNo, bytes };
  }
}

/**
 * Imports an NDJSON export into a fresh data directory. A first pass validates every
 * line and every cache's sequence numbers (1, 2, 3, … without gaps or repeats); only then
 * are the events appended, in file order, so global offsets follow the file.
 */
export async function importCommand(options: ImportOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  let size: number;
  try {
    size = statSync(options.in).size;
  } catch {
    throw new CliError(`cannot read ${options.in}`);
  }

  const expected = new Map<string, number>();
  const check = new Progress('validate', size, io.stderr);
  let total = 0;
  for await (const { text, lineNo, bytes } of lines(options.in)) {
    let record;
    try {
      record = fromNdjsonLine(text, lineNo);
    } catch (error) {
      if (error instanceof NdjsonError) throw new CliError(`${options.in}: ${error.message}; nothing imported`);
      throw error;
    }
    const id = JSON.stringify([record.ref.org, record.ref.name]);
    const want = (expected.get(id) ?? 0) + 1;
    if (record.seq !== want) {
      throw new CliError(`${options.in}: line ${lineNo}: cache ${id} has seq ${record.seq} where ${want} was expected; nothing imported`);
    }
    expected.set(id, want);
    total++;
    check.update(bytes);
  }
  check.finish();

  const backend = await openOffline(config.dataDir, { create: true });
  const { journal } = backend;
  try {
    if (journal.highestOffset > 0) throw new CliError(`${config.dataDir} already holds a journal: import only into a fresh data directory`);
    const progress = new Progress('import', total, io.stderr);
    let run: { ref: EntityRef; firstSeq: number; events: CacheEvent[] } | undefined;
    let done = 0;
    const flush = async () => {
      if (run === undefined) return;
      await journal.append(run.ref, run.firstSeq - 1, run.events);
      done += run.events.length;
      progress.update(done);
      run = undefined;
    };
    for await (const { text, lineNo } of lines(options.in)) {
      const { ref, seq, event } = fromNdjsonLine(text, lineNo);
      if (run !== undefined && (run.ref.org !== ref.org || run.ref.name !== ref.name || run.events.length >= RUN)) await flush();
      if (run === undefined) run = { ref, firstSeq: seq, events: [] };
      run.events.push(event);
    }
    await flush();
    progress.finish();
    await backend.syncToDisk();
    io.stderr.write(`imported ${done} events of ${expected.size} caches into ${config.dataDir}\n`);
  } finally {
    await backend.close();
  }
  return 0;
}
