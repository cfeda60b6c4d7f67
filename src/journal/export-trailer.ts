import { Hash, createHash } from 'node:crypto';

/**
 * The last line of every export (the `export` command's and the export task's): how many event
 * lines precede it and the SHA-256 of their bytes. An export cut short (`kill -9`, a full disk)
 * has no trailer, or one that does not match, and `import` refuses it: a partial file can never
 * be imported as if it were complete.
 */
export const TRAILER_TYPE = 'ExportComplete';

export interface ExportTrailer {
  readonly events: number;
  readonly sha256: string;
}

/** Counts and hashes event lines (each with its newline) as they are written or read. */
export class ExportDigest {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  add(line: string): void {
    this.hash.update(line);
    this.count++;
  }

  get events(): number {
    return this.count;
  }

  /** The trailer line for the lines added (ends the digest). */
  trailerLine(): string {
    return JSON.stringify({ type: TRAILER_TYPE, events: this.count, sha256: this.hash.digest('hex') }) + '\n';
  }

  /** Why `trailer` does not describe the lines added, or undefined when it does (ends the digest). */
  mismatch(trailer: ExportTrailer): string | undefined {
    if (trailer.events !== this.count) return `the trailer counts ${trailer.events} events, the file holds ${this.count}`;
    if (trailer.sha256 !== this.hash.digest('hex')) return 'the events do not match the trailer\'s SHA-256';
    return undefined;
  }
}

/** The trailer a line holds, or undefined when it is not a trailer line. */
export function parseTrailer(text: string): ExportTrailer | undefined {
  if (!text.includes(TRAILER_TYPE)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || (raw as { type?: unknown }).type !== TRAILER_TYPE) return undefined;
  const { events, sha256 } = raw as { events?: unknown; sha256?: unknown };
  if (!Number.isSafeInteger(events) || (events as number) < 0 || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  return { events: events as number, sha256 };
}

/** `lines` (event lines), then their trailer. */
export async function* withTrailer(lines: AsyncIterable<string>): AsyncGenerator<string> {
  const digest = new ExportDigest();
  for await (const line of lines) {
    digest.add(line);
    yield line;
  }
  yield digest.trailerLine();
}
