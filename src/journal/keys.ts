/**
 * Binary key layout. Numbers are fixed-width big-endian so LevelDB's byte order equals
 * numeric order and ranges are plain iterator scans.
 */
export interface EntityRef {
  readonly org: string;
  readonly name: string;
}

const MAX_PART_BYTES = 0xffff;
const TWO_32 = 0x1_0000_0000;

/**
 * `[u16 len][org][u16 len][cacheName]`: length-prefixed parts make the id prefix-free, so no
 * two (org, cacheName) pairs can collide and one entity's keys never fall in another's range.
 */
export function encodeEntityId(ref: EntityRef): Buffer {
  const org = Buffer.from(ref.org, 'utf8');
  const name = Buffer.from(ref.name, 'utf8');
  if (org.length > MAX_PART_BYTES || name.length > MAX_PART_BYTES) throw new RangeError('entity id part too long');
  const out = Buffer.allocUnsafe(4 + org.length + name.length);
  out.writeUInt16BE(org.length, 0);
  org.copy(out, 2);
  out.writeUInt16BE(name.length, 2 + org.length);
  name.copy(out, 4 + org.length);
  return out;
}

const ids = new WeakMap<EntityRef, Buffer>();

/** `encodeEntityId(ref)`, computed once per ref object (an entity appends with the same ref every time). */
export function entityIdOf(ref: EntityRef): Buffer {
  let id = ids.get(ref);
  if (id === undefined) ids.set(ref, (id = encodeEntityId(ref)));
  return id;
}

/** Decodes an entity id at the start of `bytes`; returns the ref and the id's length. */
export function decodeEntityId(bytes: Uint8Array): { ref: EntityRef; length: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const orgLen = buf.readUInt16BE(0);
  const org = buf.toString('utf8', 2, 2 + orgLen);
  const nameLen = buf.readUInt16BE(2 + orgLen);
  const name = buf.toString('utf8', 4 + orgLen, 4 + orgLen + nameLen);
  return { ref: { org, name }, length: 4 + orgLen + nameLen };
}

/** The key-space prefix of all caches of one org: `[u16 len][org]`. */
export function encodeOrgPrefix(org: string): Buffer {
  const bytes = Buffer.from(org, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export function writeUint64BE(target: Buffer, value: number, offset: number): void {
  target.writeUInt32BE(Math.floor(value / TWO_32), offset);
  target.writeUInt32BE(value >>> 0, offset + 4);
}

export function readUint64BE(source: Uint8Array, offset: number): number {
  // Byte arithmetic, no Buffer view per call (this runs once per replayed event).
  if (offset < 0 || offset + 8 > source.length) throw new RangeError(`no 8 bytes at offset ${offset} of ${source.length}`);
  const hi = ((source[offset] << 24) | (source[offset + 1] << 16) | (source[offset + 2] << 8) | source[offset + 3]) >>> 0;
  const lo = ((source[offset + 4] << 24) | (source[offset + 5] << 16) | (source[offset + 6] << 8) | source[offset + 7]) >>> 0;
  return hi * TWO_32 + lo;
}

export function uint64BE(value: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  writeUint64BE(out, value, 0);
  return out;
}

/** `prefix + u64 BE` */
export function withSeq(prefix: Buffer, seq: number): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(out, 0);
  writeUint64BE(out, seq, prefix.length);
  return out;
}

/** The smallest key greater than every key that starts with `prefix` (UTF-8 never holds 0xff). */
export function prefixEnd(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
}

export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
