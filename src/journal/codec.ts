import { Packr } from 'msgpackr';
import { CacheEvent, CacheEventType, CacheState } from '../domain';
import { CompactEntryMap } from '../domain/compact-entry-map';

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

/** `[formatVersion, status, description, version, bytes, [key, value, expiresAt, entryVersion, ...]]` */
export function encodeState(state: CacheState): Buffer {
  const flat: unknown[] = [];
  for (const [key, entry] of state.entries.entries()) flat.push(key, entry.value, entry.expiresAt, entry.version);
  return packr.pack([1, STATUS.indexOf(state.status), state.description, state.version, state.bytes, flat]);
}

export function decodeState(bytes: Uint8Array): CacheState {
  let record: unknown;
  try {
    record = packr.unpack(bytes);
  } catch (cause) {
    throw new CodecError(`undecodable snapshot (${(cause as Error).message})`);
  }
  if (!Array.isArray(record) || record[0] !== 1 || !Array.isArray(record[5])) {
    throw new CodecError('snapshot has an unknown layout');
  }
  const [, statusIndex, description, version, byteCount, flat] = record as [number, number, string, number, number, unknown[]];
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
  return { status, description, version, bytes: byteCount, entries };
}
