import { Packr } from 'msgpackr';
import { CacheEvent, CacheEventType, CacheSettings, CacheState, DEFAULT_SETTINGS } from '../domain';
import { CompactEntryMap } from '../domain/compact-entry-map';
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
 * Snapshot layout 2 (written): `[0xc1][2][u32 crc32 of the rest][u32 headLength][head]`
 * then per entry `[u16 keyLength][key utf8][u32 valueLength][value][f64 expiresAt][f64 version]`,
 * where head is MessagePack `[status, description, version, bytes, count, settings]`. Entries are
 * read straight into the cache's slabs: no object per entry, no copy of the whole state
 * as a JS array (the MessagePack layouts, formatVersion 1 and 2 below, are still read).
 * Entries keep their order (recency order: least recently written first).
 */
const SNAPSHOT_MAGIC = 0xc1; // a byte MessagePack never uses, so layout 1 cannot start with it
const SNAPSHOT_PREFIX = 10;

export function encodeState(state: CacheState): Buffer {
  const { capacity, ttlSeconds, maxValueBytes, cacheNullValue } = state.settings;
  const head = packr.pack([
    STATUS.indexOf(state.status),
    state.description,
    state.version,
    state.bytes,
    state.entries.size,
    [capacity, ttlSeconds, maxValueBytes, cacheNullValue],
  ]);
  const keys: Buffer[] = [];
  let size = SNAPSHOT_PREFIX + head.length;
  const visit = (key: string, valueLength: number) => {
    const bytes = Buffer.from(key, 'utf8');
    keys.push(bytes);
    size += 2 + bytes.length + 4 + valueLength + 16;
  };
  const compact = state.entries instanceof CompactEntryMap ? state.entries : undefined;
  if (compact) compact.forEachRaw((key, _src, _offset, length) => visit(key, length));
  else for (const [key, entry] of state.entries.entries()) visit(key, entry.value.byteLength);
  const out = Buffer.allocUnsafe(size);
  out[0] = SNAPSHOT_MAGIC;
  out[1] = 2;
  out.writeUInt32BE(head.length, 6);
  head.copy(out, SNAPSHOT_PREFIX);
  let at = SNAPSHOT_PREFIX + head.length;
  let i = 0;
  const write = (src: Uint8Array, offset: number, length: number, expiresAt: number, version: number) => {
    const key = keys[i++];
    out.writeUInt16BE(key.length, at);
    key.copy(out, at + 2);
    at += 2 + key.length;
    out.writeUInt32BE(length, at);
    out.set(src.subarray(offset, offset + length), at + 4);
    at += 4 + length;
    out.writeDoubleBE(expiresAt, at);
    out.writeDoubleBE(version, at + 8);
    at += 16;
  };
  if (compact) compact.forEachRaw((_key, src, offset, length, expiresAt, version) => write(src, offset, length, expiresAt, version));
  else for (const [, entry] of state.entries.entries()) write(entry.value, 0, entry.value.byteLength, entry.expiresAt, entry.version);
  out.writeUInt32BE(crc32(out.subarray(6)), 2);
  return out;
}

/** Settings as stored: `[capacity, ttlSeconds, maxValueBytes, cacheNullValue]`; absent in the oldest layout. */
function decodeSettings(raw: unknown): CacheSettings {
  if (raw === undefined) return DEFAULT_SETTINGS;
  if (!Array.isArray(raw) || raw.length !== 4) throw new CodecError('snapshot has unreadable settings');
  const [capacity, ttlSeconds, maxValueBytes, cacheNullValue] = raw as [number, number, number, boolean];
  return { capacity, ttlSeconds, maxValueBytes, cacheNullValue };
}

/**
 * Reads layout 2 (above), and the MessagePack layouts written before it: `[formatVersion,
 * status, description, version, bytes, [key, value, expiresAt, entryVersion, ...], settings]`
 * (formatVersion 1 had no settings).
 */
export function decodeState(bytes: Uint8Array): CacheState {
  if (bytes[0] === SNAPSHOT_MAGIC) return decodeStateV2(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
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
  return { status, description, version, bytes: byteCount, entries, settings: decodeSettings(rawSettings) };
}

function decodeStateV2(buf: Buffer): CacheState {
  if (buf.length < SNAPSHOT_PREFIX || buf[1] !== 2) throw new CodecError('snapshot has an unknown layout');
  if (buf.readUInt32BE(2) !== crc32(buf.subarray(6))) throw new CodecError('snapshot checksum mismatch');
  const headLength = buf.readUInt32BE(6);
  let head: unknown;
  try {
    // A copy: msgpackr keeps its last input referenced, which would pin the whole snapshot.
    head = packr.unpack(Buffer.from(buf.subarray(SNAPSHOT_PREFIX, SNAPSHOT_PREFIX + headLength)));
  } catch (cause) {
    throw new CodecError(`undecodable snapshot head (${(cause as Error).message})`);
  }
  if (!Array.isArray(head)) throw new CodecError('snapshot head is not an array');
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
