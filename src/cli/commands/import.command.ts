import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { CacheEvent } from '../../domain';
import { EntityRef } from '../../journal/keys';
import { ExportDigest, ExportTrailer, TRAILER_TYPE, parseTrailer } from '../../journal/export-trailer';
import { NdjsonError, fromNdjsonLine } from '../../journal/ndjson';
import { importRuleBroken } from '../import-rules';
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
 * line, every value against the API's own rules (importRuleBroken: names, keys, settings,
 * times the API could have written), every cache's sequence numbers (1, 2, 3, … without gaps
 * or repeats) and the export's trailer (the count and SHA-256 of its event lines: an export cut
 * short has none and is refused); only then are the events appended, in file order, so global
 * offsets follow the file.
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
  const digest = new ExportDigest();
  let trailer: { value: ExportTrailer; lineNo: number } | undefined;
  for await (const { text, lineNo, bytes } of lines(options.in)) {
    if (trailer !== undefined) throw new CliError(`${options.in}: line ${lineNo}: a line after the export's trailer (line ${trailer.lineNo}); nothing imported`);
    const end = parseTrailer(text);
    if (end !== undefined) {
      trailer = { value: end, lineNo };
      continue;
    }
    digest.add(`${text}\n`);
    let record;
    try {
      record = fromNdjsonLine(text, lineNo);
    } catch (error) {
      if (error instanceof NdjsonError) throw new CliError(`${options.in}: ${error.message}; nothing imported`);
      throw error;
    }
    const broken = importRuleBroken(record.ref, record.event, config.maxValueBytes);
    if (broken !== undefined) throw new CliError(`${options.in}: line ${lineNo}: ${broken} (the API never writes this); nothing imported`);
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
  if (trailer === undefined) {
    throw new CliError(`${options.in}: no ${TRAILER_TYPE} line at the end: the export is incomplete (cut short while it was written); nothing imported`);
  }
  const mismatch = digest.mismatch(trailer.value);
  if (mismatch !== undefined) throw new CliError(`${options.in}: ${mismatch}: this is not the file the export wrote; nothing imported`);

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
      if (lineNo === trailer.lineNo) break;
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
