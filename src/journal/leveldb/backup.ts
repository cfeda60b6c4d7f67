import { FileHandle, open } from 'node:fs/promises';
import { lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { crc32 } from '../crc32';
import { BackupLimitError } from '../journal-backend';
import { Storage } from './storage';

/**
 * A whole-instance backup of a stopped data directory: every key of its LevelDB database, as
 * stored (journal, snapshots and their chunks, compaction marks, read models, offsets, tasks,
 * meta), and the files beside it that the service made (`jwt-secret`, `node-id`, `exports/`).
 * Restored into an empty directory, it is the same database, byte for byte: a compacted cache
 * comes back with its snapshot base, and every API answers the same.
 *
 * Layout: `CACHELOG-BACKUP\n`, u8 version (1), then records — u8 1 (database entry), u32 key
 * length, key, u32 value length, value; or u8 2 (file), u16 path length, path (UTF-8, `/`),
 * u32 mode, u32 length, bytes — and the end: u8 0, u64 entries, u32 files, u32 CRC-32 of every
 * byte before the CRC. All numbers big-endian. A file is refused whole if its CRC, its end or
 * any length is wrong; nothing is written before the whole file has been checked.
 */
const MAGIC = Buffer.from('CACHELOG-BACKUP\n', 'latin1');
const VERSION = 1;
const ENTRY = 1;
const FILE = 2;
const END = 0;

/** LevelDB's own files in a database directory; everything else there was written by cachelog. */
const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(ldb|log|sst)|.*\.dbtmp)$/;

export class BackupFormatError extends Error {}

export interface BackupCounts {
  readonly entries: number;
  readonly files: number;
  readonly bytes: number;
}

/** The files beside the database that a restore must bring back, relative to the data directory. */
export function serviceFiles(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile() && !(dir === dataDir && LEVELDB_FILE.test(name))) out.push(relative(dataDir, full).split(sep).join('/'));
    }
  };
  walk(dataDir);
  return out;
}

/** Writes through a file handle with a running CRC. */
class CheckedWriter {
  private crc = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  bytes = 0;

  constructor(private readonly handle: FileHandle) {}

  async write(...parts: Buffer[]): Promise<void> {
    for (const part of parts) {
      this.crc = crc32(part, this.crc);
      this.pending.push(part);
      this.pendingBytes += part.length;
      this.bytes += part.length;
    }
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    await this.handle.write(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  get checksum(): number {
    return this.crc;
  }
}

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/**
 * Writes a backup file record by record: the header first, `end()` last (counts and CRC, then
 * synced). `take(bytes)` is asked before every record and may refuse it (a byte limit):
 * BackupLimitError. The caller owns the file handle.
 */
export class BackupWriter {
  private readonly writer: CheckedWriter;
  entries = 0;
  files = 0;

  constructor(
    handle: FileHandle,
    private readonly take: (bytes: number) => boolean = () => true,
  ) {
    this.writer = new CheckedWriter(handle);
  }

  get bytes(): number {
    return this.writer.bytes;
  }

  private async put(...parts: Buffer[]): Promise<void> {
    if (!this.take(parts.reduce((sum, part) => sum + part.length, 0))) throw new BackupLimitError('the backup would pass its limit of bytes on disk');
    await this.writer.write(...parts);
  }

  header(): Promise<void> {
    return this.put(MAGIC, u8(VERSION));
  }

  async entry(key: Buffer, value: Buffer): Promise<void> {
    await this.put(u8(ENTRY), u32(key.length), key, u32(value.length), value);
    this.entries++;
  }

  /** A file of `size` bytes read from `handle` in slices (a large export file is never held whole). */
  async file(path: string, mode: number, handle: FileHandle, size: number): Promise<void> {
    const name = Buffer.from(path, 'utf8');
    await this.put(u8(FILE), u16(name.length), name, u32(mode & 0o777), u32(size));
    for (let at = 0; at < size; ) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, size - at));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, at);
      if (bytesRead === 0) throw new Error(`${path} became shorter while it was backed up`);
      await this.put(chunk.subarray(0, bytesRead));
      at += bytesRead;
    }
    this.files++;
  }

  async end(sync: FileHandle): Promise<BackupCounts> {
    await this.put(u8(END), u64(this.entries), u32(this.files));
    await this.put(u32(this.writer.checksum));
    await this.writer.flush();
    await sync.sync();
    return { entries: this.entries, files: this.files, bytes: this.writer.bytes };
  }
}

/** Writes the backup of `storage` (open, nobody else writing) and the service files of `dataDir` to `out` (which must not exist). */
export async function writeBackup(storage: Storage, dataDir: string, out: string, progress?: (entries: number) => void): Promise<BackupCounts> {
  const handle = await open(out, 'wx', 0o600);
  try {
    const writer = new BackupWriter(handle);
    await writer.header();
    for await (const [key, value] of storage.db.iterator({ keyEncoding: 'buffer', valueEncoding: 'buffer' } as never) as AsyncIterable<[Buffer, Buffer]>) {
      await writer.entry(key, value);
      if (writer.entries % 1024 === 0) progress?.(writer.entries);
    }
    progress?.(writer.entries);
    for (const path of serviceFiles(dataDir)) {
      const file = await open(join(dataDir, ...path.split('/')), 'r');
      try {
        const stat = await file.stat();
        await writer.file(path, stat.mode, file, stat.size);
      } finally {
        await file.close();
      }
    }
    return await writer.end(handle);
  } finally {
    await handle.close();
  }
}

/** Reads a file forward in chunks. */
class Reader {
  private buffer = Buffer.alloc(0);
  private position = 0;
  crc = 0;
  consumed = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async take(n: number, what: string): Promise<Buffer> {
    while (this.buffer.length < n) {
      if (this.position >= this.size) throw new BackupFormatError(`the file ends inside ${what} (at byte ${this.consumed})`);
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(n - this.buffer.length, 1 << 20), this.size - this.position));
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.position);
      if (bytesRead === 0) throw new BackupFormatError(`the file ends inside ${what} (at byte ${this.consumed})`);
      this.position += bytesRead;
      this.buffer = this.buffer.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([this.buffer, chunk.subarray(0, bytesRead)]);
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    this.consumed += n;
    return out;
  }

  /** Like take, and counted in the CRC. */
  async checked(n: number, what: string): Promise<Buffer> {
    const out = await this.take(n, what);
    this.crc = crc32(out, this.crc);
    return out;
  }

  get atEnd(): boolean {
    return this.buffer.length === 0 && this.position >= this.size;
  }
}

export type BackupRecord = { kind: 'entry'; key: Buffer; value: Buffer } | { kind: 'file'; path: string; mode: number; bytes: Buffer };

/** Every record of a backup file, in order; throws BackupFormatError for a damaged or foreign file (after the records before the damage). */
export async function* readBackup(file: string): AsyncGenerator<BackupRecord, BackupCounts> {
  const handle = await open(file, 'r');
  try {
    const reader = new Reader(handle, (await handle.stat()).size);
    if (reader.size < MAGIC.length + 1) throw new BackupFormatError('not a cachelog backup (no CACHELOG-BACKUP header)');
    const magic = await reader.checked(MAGIC.length + 1, 'the header');
    if (!magic.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupFormatError('not a cachelog backup (no CACHELOG-BACKUP header)');
    if (magic[MAGIC.length] !== VERSION) throw new BackupFormatError(`backup version ${magic[MAGIC.length]}; this version reads ${VERSION}`);
    let entries = 0;
    let files = 0;
    for (;;) {
      const kind = (await reader.checked(1, 'a record'))[0];
      if (kind === ENTRY) {
        const key = Buffer.from(await reader.checked((await reader.checked(4, 'a key length')).readUInt32BE(), 'a key'));
        const value = Buffer.from(await reader.checked((await reader.checked(4, 'a value length')).readUInt32BE(), 'a value'));
        entries++;
        yield { kind: 'entry', key, value };
      } else if (kind === FILE) {
        const path = (await reader.checked((await reader.checked(2, 'a path length')).readUInt16BE(), 'a path')).toString('utf8');
        if (path === '' || path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '')) throw new BackupFormatError(`a file path outside the data directory: ${JSON.stringify(path)}`);
        const mode = (await reader.checked(4, 'a file mode')).readUInt32BE() & 0o777;
        const bytes = Buffer.from(await reader.checked((await reader.checked(4, 'a file length')).readUInt32BE(), 'a file'));
        files++;
        yield { kind: 'file', path, mode, bytes };
      } else if (kind === END) {
        const counts = await reader.checked(12, 'the end');
        const expected = reader.crc;
        const stored = (await reader.take(4, 'the checksum')).readUInt32BE();
        if (stored !== expected) throw new BackupFormatError('the checksum does not match: the file is damaged');
        if (Number(counts.readBigUInt64BE(0)) !== entries || counts.readUInt32BE(8) !== files) throw new BackupFormatError('the record counts do not match: the file is damaged');
        if (!reader.atEnd) throw new BackupFormatError('bytes after the end of the backup');
        return { entries, files, bytes: reader.size };
      } else {
        throw new BackupFormatError(`an unknown record kind ${kind} at byte ${reader.consumed - 1}: the file is damaged`);
      }
    }
  } finally {
    await handle.close();
  }
}
