import { Packr } from 'msgpackr';
import { CacheEvent, CacheEventType, CacheSettings, CacheState, DEFAULT_SETTINGS, Entry } from '../domain';

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
 * `[formatVersion, status, description, version, bytes, [key, value, expiresAt, entryVersion, ...], settings]`;
 * entries in recency order (least recently written first). Format 1 had no settings.
 */
export function encodeState(state: CacheState): Buffer {
  const flat: unknown[] = [];
  for (const [key, entry] of state.entries.entries()) flat.push(key, entry.value, entry.expiresAt, entry.version);
  const { capacity, ttlSeconds, maxValueBytes, cacheNullValue } = state.settings;
  return packr.pack([2, STATUS.indexOf(state.status), state.description, state.version, state.bytes, flat, [capacity, ttlSeconds, maxValueBytes, cacheNullValue]]);
}

function decodeSettings(raw: unknown): CacheSettings {
  if (raw === undefined) return DEFAULT_SETTINGS;
  if (!Array.isArray(raw) || raw.length !== 4) throw new CodecError('snapshot has unreadable settings');
  const [capacity, ttlSeconds, maxValueBytes, cacheNullValue] = raw as [number, number, number, boolean];
  return { capacity, ttlSeconds, maxValueBytes, cacheNullValue };
}

export function decodeState(bytes: Uint8Array): CacheState {
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
  const entries = new Map<string, Entry>();
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
