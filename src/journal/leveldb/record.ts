import { CacheEvent } from '../../domain';
import { decodeEvent, encodeEventAfter } from '../codec';
import { crc32 } from '../crc32';
import { JournalCorruptError } from '../journal';
import { decodeEntityId } from '../keys';

/** Bytes before the encoded event in a journal value: its CRC-32, big-endian. */
const CRC_BYTES = 4;

/** A journal value: `[u32 crc32(payload)][payload]`. */
export function frameRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(CRC_BYTES + payload.length);
  out.writeUInt32BE(crc32(payload), 0);
  payload.copy(out, CRC_BYTES);
  return out;
}

/** The journal value of an event: `frameRecord(encodeEvent(event))`, its value copied once. */
export function frameEvent(event: CacheEvent): Buffer {
  const out = encodeEventAfter(event, CRC_BYTES);
  out.writeUInt32BE(crc32(out.subarray(CRC_BYTES)), 0);
  return out;
}

/** The payload of a journal value, or a reason why it is not intact. */
export function unframeRecord(value: Uint8Array): Uint8Array | string {
  if (value.byteLength < CRC_BYTES + 1) return `record is truncated (${value.byteLength} bytes)`;
  const payload = value.subarray(CRC_BYTES);
  const stored = ((value[0] << 24) | (value[1] << 16) | (value[2] << 8) | value[3]) >>> 0;
  const actual = crc32(payload);
  return stored === actual ? payload : `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
}

/** Decodes a stored journal value after checking its CRC; a bad record throws JournalCorruptError. */
export function decodeRecord(entityId: Uint8Array, seq: number, value: Uint8Array, offset?: number): CacheEvent {
  const payload = unframeRecord(value);
  if (typeof payload === 'string') throw new JournalCorruptError(decodeEntityId(entityId).ref, seq, payload, offset);
  try {
    return decodeEvent(payload);
  } catch (error) {
    throw new JournalCorruptError(decodeEntityId(entityId).ref, seq, (error as Error).message, offset);
  }
}
