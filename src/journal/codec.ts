import { endianness } from 'node:os';
import { Packr } from 'msgpackr';
import { CacheEvent, CacheEventType, CacheSettings, CacheState, DEFAULT_SETTINGS } from '../domain';
import { CompactEntryMap, EntryColumns } from '../domain/compact-entry-map';
import { ChunkedBytes } from './chunked-bytes';
import { crc32 } from './crc32';

/**
 * Compact binary encoding (MessagePack arrays, values as raw bytes: no base64 on disk).
 * An event is `[tag, at, by, device, ...fields]`; tags are append-only, never reused.
 */
const packr = new Packr({ useRecords: false, variableMapSize: true });

const EVENT_FIELDS: Record<CacheEventType, { tag: number; fields: readonly string[] }> = {
  Created: { tag: 1, fields: ['description'] },
  DescriptionChanged: { tag: 2, fields: ['description'] },
  CacheDeleted: { tag: 3, fields: [] },
  Flushed: { tag: 4, fields: [] },
  Set: { tag: 5, fields: ['key', 'value', 'expiresAt'] },
  Deleted: { tag: 6, fields: ['key'] },
  Expired: { tag: 7, fields: ['key'] },
  SettingsChanged: { tag: 8, fields: ['capacity', 'ttlSeconds', 'maxValueBytes', 'cacheNullValue'] },
  Evicted: { tag: 9, fields: ['key'] },
  ExpiryChanged: { tag: 10, fields: ['key', 'expiresAt'] },
};

const BY_TAG = new Map<number, { type: CacheEventType; fields: readonly string[] }>(
  Object.entries(EVENT_FIELDS).map(([type, spec]) => [spec.tag, { type: type as CacheEventType, fields: spec.fields }]),
);

export class CodecError extends Error {
  readonly code = 'JOURNAL_DECODE_ERROR';
}

export function encodeEvent(event: CacheEvent): Buffer {
  const spec = EVENT_FIELDS[event.type];
  const record: unknown[] = [spec.tag, event.at, event.by, event.device];
  const fields = event as unknown as Record<string, unknown>;
  for (const field of spec.fields) record.push(fields[field]);
  return packr.pack(record);
}

/** Values from this size are encoded without a second copy (encodeEventAfter). */
const LARGE_EVENT_VALUE = 64 * 1024;

/**
 * `encodeEvent`'s bytes after `headroom` bytes left to the caller (the LevelDB record's
 * CRC), in one buffer. A large value is copied once, into it: through MessagePack's buffer and
 * then into the record, a 1 MiB overwrite copied its value twice more than it needs, and the
 * collections of that external memory were a third of its CPU (measured by profile). The
 * bytes are the same as `encodeEvent`'s (MessagePack: the record's array, its fields, the value
 * as bin 32, the rest).
 */
export function encodeEventAfter(event: CacheEvent, headroom: number): Buffer {
  if (event.type !== 'Set' || event.value.byteLength < LARGE_EVENT_VALUE) {
    const encoded = encodeEvent(event);
    const out = Buffer.allocUnsafe(headroom + encoded.length);
    encoded.copy(out, headroom);
    return out;
  }
  // [tag, at, by, device, key, value, expiresAt]: packed as a 5-element array, then widened to 7.
  const head = packr.pack([EVENT_FIELDS.Set.tag, event.at, event.by, event.device, event.key]);
  if (head[0] !== 0x95) throw new CodecError('unexpected MessagePack array header');
  const valueAt = headroom + head.length + 5;
  const tailAt = valueAt + event.value.byteLength;
  const out = Buffer.allocUnsafe(tailAt + 9); // a float64 at most
  head.copy(out, headroom);
  out[headroom] = 0x97;
  out[valueAt - 5] = 0xc6;
  out.writeUInt32BE(event.value.byteLength, valueAt - 4);
  out.set(event.value, valueAt);
  const tail = packr.pack(event.expiresAt);
  tail.copy(out, tailAt);
  return out.subarray(0, tailAt + tail.length);
}

export function decodeEvent(bytes: Uint8Array): CacheEvent {
  let record: unknown;
  try {
    record = packr.unpack(bytes);
  } catch (cause) {
    throw new CodecError(`undecodable event record (${(cause as Error).message})`);
  }
  if (!Array.isArray(record)) throw new CodecError('event record is not an array');
  const spec = BY_TAG.get(record[0] as number);
  if (spec === undefined) throw new CodecError(`unknown event tag ${String(record[0])}`);
  const event: Record<string, unknown> = { type: spec.type, at: record[1], by: record[2], device: record[3] ?? null };
  spec.fields.forEach((field, i) => (event[field] = record[4 + i]));
  return event as unknown as CacheEvent;
}

const STATUS = ['absent', 'live', 'deleted'] as const;

/**
 * Snapshot layout 3 (written): `[0xc1][3][u32 crc32 of the rest][u32 headLength][head]`, zero
 * padding to a multiple of 8, then the entries column by column: f64 LE `expiresAt` × n,
 * f64 LE version × n, u32 LE value length × n, u32 LE key length × n, the keys as one UTF-8
 * string, the values one after another. Head: MessagePack `[status, description, version,
 * bytes, n, settings, keyBytes]`. Entries keep their order (recency: least recently used first).
 *
 * Loading is a copy per column, one string decode for all keys and a copy per slab of
 * values: no object and no native call per entry but the key itself (layout 2, read below,
 * decoded a string and copied a value per entry: 1.7 s for 1M keys). Key lengths are in
 * UTF-16 code units, so the keys are split off the one decoded string by position.
 */
const SNAPSHOT_MAGIC = 0xc1; // a byte MessagePack never uses, so layout 1 cannot start with it
const SNAPSHOT_PREFIX = 10;
const LITTLE_ENDIAN = endianness() === 'LE';

const align8 = (n: number) => (n + 7) & ~7;

export function encodeState(state: CacheState): Buffer {
  const { capacity, ttlSeconds, maxValueBytes, cacheNullValue } = state.settings;
  const columns = columnsOf(state);
  const n = columns.keys.length;
  const keyBytes = Buffer.from(columns.keys.join(''), 'utf8');
  let valueBytes = 0;
  for (let i = 0; i < n; i++) valueBytes += columns.lengths[i];
  const head = packr.pack([STATUS.indexOf(state.status), state.description, state.version, state.bytes, n, [capacity, ttlSeconds, maxValueBytes, cacheNullValue], keyBytes.length]);
  const columnsAt = align8(SNAPSHOT_PREFIX + head.length);
  const keysAt = columnsAt + 24 * n;
  const valuesAt = keysAt + keyBytes.length;
  const out = Buffer.allocUnsafe(valuesAt + valueBytes);
  out[0] = SNAPSHOT_MAGIC;
  out[1] = 3;
  out.writeUInt32BE(head.length, 6);
  head.copy(out, SNAPSHOT_PREFIX);
  out.fill(0, SNAPSHOT_PREFIX + head.length, columnsAt);
  writeFloat64s(out, columnsAt, columns.expiresAt);
  writeFloat64s(out, columnsAt + 8 * n, columns.versions);
  writeUint32s(out, columnsAt + 16 * n, columns.lengths);
  const keyLengths = new Uint32Array(n);
  for (let i = 0; i < n; i++) keyLengths[i] = columns.keys[i].length;
  writeUint32s(out, columnsAt + 20 * n, keyLengths);
  keyBytes.copy(out, keysAt);
  columns.copyValues(out, valuesAt);
  out.writeUInt32BE(crc32(out.subarray(6)), 2);
  return out;
}

function columnsOf(state: CacheState): EntryColumns & { copyValues(out: Uint8Array, at: number): void } {
  if (state.entries instanceof CompactEntryMap) return state.entries.columns();
  const all = [...state.entries.entries()];
  const n = all.length;
  const columns = { keys: new Array<string>(n), lengths: new Uint32Array(n), expiresAt: new Float64Array(n), versions: new Float64Array(n) };
  all.forEach(([key, entry], i) => {
    columns.keys[i] = key;
    columns.lengths[i] = entry.value.byteLength;
    columns.expiresAt[i] = entry.expiresAt;
    columns.versions[i] = entry.version;
  });
  const copyValues = (out: Uint8Array, at: number) => {
    for (const [, entry] of all) {
      out.set(entry.value, at);
      at += entry.value.byteLength;
    }
  };
  return { ...columns, copyValues };
}

/** A column in little-endian order (as a little-endian host holds it: one copy). */
function writeColumn(out: Buffer, at: number, column: Float64Array | Uint32Array, writeLE: (value: number, offset: number) => number): void {
  if (LITTLE_ENDIAN) out.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), at);
  else for (let i = 0; i < column.length; i++) writeLE.call(out, column[i], at + column.BYTES_PER_ELEMENT * i);
}

const writeFloat64s = (out: Buffer, at: number, column: Float64Array) => writeColumn(out, at, column, out.writeDoubleLE);
const writeUint32s = (out: Buffer, at: number, column: Uint32Array) => writeColumn(out, at, column, out.writeUInt32LE);

/** The column of `n` little-endian numbers at `at`. */
function readColumn<T extends Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(bytes: ChunkedBytes, at: number, column: T, readLE: (this: Buffer, offset: number) => number): T {
  if (LITTLE_ENDIAN) bytes.copyTo(new Uint8Array(column.buffer), at);
  else {
    const width = column.BYTES_PER_ELEMENT;
    const buf = bytes.range(at, at + width * column.length);
    for (let i = 0; i < column.length; i++) column[i] = readLE.call(buf, width * i);
  }
  return column;
}

const readFloat64s = (bytes: ChunkedBytes, at: number, n: number) => readColumn(bytes, at, new Float64Array(n), Buffer.prototype.readDoubleLE);
const readUint32s = (bytes: ChunkedBytes, at: number, n: number) => readColumn(bytes, at, new Uint32Array(n), Buffer.prototype.readUInt32LE);

/** Settings as stored: `[capacity, ttlSeconds, maxValueBytes, cacheNullValue]`; absent in the oldest layout. */
function decodeSettings(raw: unknown): CacheSettings {
  if (raw === undefined) return DEFAULT_SETTINGS;
  if (!Array.isArray(raw) || raw.length !== 4) throw new CodecError('snapshot has unreadable settings');
  const [capacity, ttlSeconds, maxValueBytes, cacheNullValue] = raw as [number, number, number, boolean];
  return { capacity, ttlSeconds, maxValueBytes, cacheNullValue };
}

/** A snapshot as stored: one buffer, or its chunks in order (read in place, not concatenated). */
export type SnapshotBytes = Uint8Array | readonly Uint8Array[];

const isPartList = (stored: SnapshotBytes): stored is readonly Uint8Array[] => Array.isArray(stored);

/**
 * Reads layout 3 (above), layout 2 (`[0xc1][2][u32 crc32][u32 headLength][head]`, then per
 * entry `[u16 keyLength][key utf8][u32 valueLength][value][f64 BE expiresAt][f64 BE version]`,
 * head `[status, description, version, bytes, n, settings]`), and the MessagePack layouts written before it: `[formatVersion,
 * status, description, version, bytes, [key, value, expiresAt, entryVersion, ...], settings]`
 * (formatVersion 1 had no settings).
 */
export interface DecodeOptions {
  /** The entries of these keys alone (a point-in-time read of one key), `bytes` counting theirs. */
  readonly only?: ReadonlySet<string>;
  /**
   * The CRC-32 of the stored bytes from offset 6, computed by the reader a chunk at a time as
   * they came (snapshot-chunks.ts), so this decode does not take one pass over them all.
   */
  readonly checksum?: number;
}

export function decodeState(stored: SnapshotBytes, { only, checksum }: DecodeOptions = {}): CacheState {
  const parts = (isPartList(stored) ? stored : [stored]).map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength));
  const chunked = new ChunkedBytes(parts);
  if (chunked.length >= 2 && chunked.range(0, 2)[0] === SNAPSHOT_MAGIC && chunked.range(1, 2)[0] === 3) return only ? decodeKeysV3(chunked, only, checksum) : decodeStateV3(chunked, checksum);
  const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  if (bytes[0] === SNAPSHOT_MAGIC) return restrict(decodeStateV2(bytes), only);
  let record: unknown;
  try {
    record = packr.unpack(bytes);
  } catch (cause) {
    throw new CodecError(`undecodable snapshot (${(cause as Error).message})`);
  }
  if (!Array.isArray(record) || (record[0] !== 1 && record[0] !== 2) || !Array.isArray(record[5])) {
    throw new CodecError('snapshot has an unknown layout');
  }
  const [, statusIndex, description, version, byteCount, flat, rawSettings] = record as [number, number, string, number, number, unknown[], unknown];
  const entries = new CompactEntryMap();
  for (let i = 0; i < flat.length; i += 4) {
    entries.set(flat[i] as string, {
      value: flat[i + 1] as Uint8Array,
      expiresAt: flat[i + 2] as number,
      version: flat[i + 3] as number,
    });
  }
  const status = STATUS[statusIndex];
  if (status === undefined) throw new CodecError('snapshot has an unknown status');
  return restrict({ status, description, version, bytes: byteCount, entries, settings: decodeSettings(rawSettings) }, only);
}

/** The state with the entries of `only` alone, `bytes` counting theirs (the older layouts, decoded whole first). */
function restrict(state: CacheState, only: ReadonlySet<string> | undefined): CacheState {
  if (only === undefined) return state;
  const entries = new CompactEntryMap();
  let bytes = 0;
  for (const [key, entry] of state.entries.entries()) {
    if (!only.has(key)) continue;
    entries.set(key, entry);
    bytes += entry.value.byteLength;
  }
  return { ...state, entries, bytes };
}

/** The columns and keys of a layout-3 snapshot, checked (the values are not read). */
function columnsV3(bytes: ChunkedBytes, checksum: number | undefined) {
  const { head, headLength } = checkedHead(bytes, checksum);
  const [statusIndex, description, version, byteCount, n, rawSettings, keyBytes] = head as [number, string, number, number, number, unknown, number];
  const status = STATUS[statusIndex];
  if (status === undefined) throw new CodecError('snapshot has an unknown status');
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(keyBytes) || keyBytes < 0) throw new CodecError('snapshot has an unreadable head');
  const columnsAt = align8(SNAPSHOT_PREFIX + headLength);
  const keysAt = columnsAt + 24 * n;
  const valuesAt = keysAt + keyBytes;
  if (valuesAt > bytes.length) throw new CodecError('truncated snapshot (columns past the end)');
  const lengths = readUint32s(bytes, columnsAt + 16 * n, n);
  const keyLengths = readUint32s(bytes, columnsAt + 20 * n, n);
  let valueBytes = 0;
  for (let i = 0; i < n; i++) valueBytes += lengths[i];
  if (valuesAt + valueBytes !== bytes.length) throw new CodecError('snapshot values do not add up to its length');
  const allKeys = bytes.range(keysAt, valuesAt).toString('utf8');
  const keys = new Array<string>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    keys[i] = allKeys.substring(at, at + keyLengths[i]);
    at += keyLengths[i];
  }
  if (at !== allKeys.length) throw new CodecError('snapshot key lengths do not add up to its keys');
  const state = { status, description, version, bytes: byteCount, settings: decodeSettings(rawSettings) };
  return { state, n, keys, lengths, columnsAt, valuesAt };
}

function decodeStateV3(bytes: ChunkedBytes, checksum?: number): CacheState {
  const { state, n, keys, lengths, columnsAt, valuesAt } = columnsV3(bytes, checksum);
  let entries: CompactEntryMap;
  try {
    const columns = { keys, lengths, expiresAt: readFloat64s(bytes, columnsAt, n), versions: readFloat64s(bytes, columnsAt + 8 * n, n) };
    entries = CompactEntryMap.fromColumns(columns, bytes.viewsFrom(valuesAt));
  } catch (cause) {
    throw new CodecError(`unreadable snapshot entries (${(cause as Error).message})`);
  }
  return { ...state, entries };
}

/**
 * A layout-3 snapshot with the entries of `only` alone (a point-in-time read of one key): the
 * whole snapshot is still checked, but only those values are copied out of it (a read of one
 * key of an 8 MiB cache copied all 8 MiB, ~20-40 ms of one turn). `bytes` counts theirs.
 */
function decodeKeysV3(bytes: ChunkedBytes, only: ReadonlySet<string>, checksum?: number): CacheState {
  const { state, n, keys, lengths, columnsAt, valuesAt } = columnsV3(bytes, checksum);
  const expiresAt = readFloat64s(bytes, columnsAt, n);
  const versions = readFloat64s(bytes, columnsAt + 8 * n, n);
  const entries = new CompactEntryMap();
  let kept = 0;
  let at = valuesAt;
  for (let i = 0; i < n; i++) {
    if (only.has(keys[i])) {
      if (entries.has(keys[i])) throw new CodecError(`unreadable snapshot entries (key ${JSON.stringify(keys[i])} is repeated)`);
      const value = Buffer.allocUnsafe(lengths[i]); // its own bytes: a view would keep a whole chunk
      bytes.copyTo(value, at);
      entries.set(keys[i], { value, expiresAt: expiresAt[i], version: versions[i] });
      kept += lengths[i];
    }
    at += lengths[i];
  }
  return { ...state, bytes: kept, entries };
}

/** The CRC-checked MessagePack head of layouts 2 and 3. */
function checkedHead(bytes: Buffer | ChunkedBytes, checksum?: number): { head: unknown[]; headLength: number } {
  const chunked = bytes instanceof ChunkedBytes ? bytes : new ChunkedBytes([bytes]);
  if (chunked.length < SNAPSHOT_PREFIX) throw new CodecError('snapshot has an unknown layout');
  const prefix = chunked.range(0, SNAPSHOT_PREFIX);
  if (prefix.readUInt32BE(2) !== (checksum ?? chunked.crc32From(6))) throw new CodecError('snapshot checksum mismatch');
  const headLength = prefix.readUInt32BE(6);
  if (SNAPSHOT_PREFIX + headLength > chunked.length) throw new CodecError('truncated snapshot (head past the end)');
  let head: unknown;
  try {
    // A copy: msgpackr keeps its last input referenced, which would pin the whole snapshot.
    head = packr.unpack(Buffer.from(chunked.range(SNAPSHOT_PREFIX, SNAPSHOT_PREFIX + headLength)));
  } catch (cause) {
    throw new CodecError(`undecodable snapshot head (${(cause as Error).message})`);
  }
  if (!Array.isArray(head)) throw new CodecError('snapshot head is not an array');
  return { head, headLength };
}

function decodeStateV2(buf: Buffer): CacheState {
  if (buf[1] !== 2) throw new CodecError('snapshot has an unknown layout');
  const { head, headLength } = checkedHead(buf);
  const [statusIndex, description, version, byteCount, count, rawSettings] = head as [number, string, number, number, number, unknown];
  const status = STATUS[statusIndex];
  if (status === undefined) throw new CodecError('snapshot has an unknown status');
  const entries = new CompactEntryMap();
  let at = SNAPSHOT_PREFIX + headLength;
  try {
    for (let n = 0; n < count; n++) {
      const keyLength = buf.readUInt16BE(at);
      const key = buf.toString('utf8', at + 2, at + 2 + keyLength);
      at += 2 + keyLength;
      const valueLength = buf.readUInt32BE(at);
      const valueAt = at + 4;
      at = valueAt + valueLength;
      if (at + 16 > buf.length) throw new RangeError('entry past the end');
      entries.setRaw(key, buf, valueAt, valueLength, buf.readDoubleBE(at), buf.readDoubleBE(at + 8));
      at += 16;
    }
  } catch (cause) {
    throw new CodecError(`truncated snapshot (${(cause as Error).message})`);
  }
  if (at !== buf.length) throw new CodecError('snapshot has trailing bytes');
  return { status, description, version, bytes: byteCount, entries, settings: decodeSettings(rawSettings) };
}
