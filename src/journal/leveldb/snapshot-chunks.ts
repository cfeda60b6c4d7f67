import { writeUint64BE } from '../keys';
import { crc32 } from '../crc32';
import { Storage } from './storage';

/** Where a snapshot's checksum starts (codec.ts: magic, layout, then the u32 CRC of the rest). */
const CHECKSUM_FROM = 6;

/**
 * Large snapshots are stored in 1 MiB chunks, in their own key space, under a small header
 * in `snapshots`. A LevelDB seek reads the whole block at its position: one 130 MB value
 * (a 1M-key cache) made every snapshot lookup near it, another cache's included, read and
 * check 130 MB (measured: 0.2–0.7 s for the first request to any other cache after a start).
 */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/** `[0xc1][0xff][u32 chunks][u64 total bytes]`: 0xc1 opens every snapshot layout, 0xff is no layout's number. */
const HEADER_BYTES = 14;

export function isChunkHeader(value: Uint8Array): boolean {
  return value.byteLength === HEADER_BYTES && value[0] === 0xc1 && value[1] === 0xff;
}

export function chunkHeader(chunks: number, total: number): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out[0] = 0xc1;
  out[1] = 0xff;
  out.writeUInt32BE(chunks, 2);
  writeUint64BE(out, total, 6);
  return out;
}

/** `snapshot key + u32 BE chunk index` */
export function chunkKey(snapshotKey: Buffer, index: number): Buffer {
  const out = Buffer.allocUnsafe(snapshotKey.length + 4);
  snapshotKey.copy(out, 0);
  out.writeUInt32BE(index, snapshotKey.length);
  return out;
}

/**
 * The snapshot's encoded bytes from its stored value (a whole snapshot, or a header): its
 * chunks, not concatenated, and for chunks the CRC-32 of the bytes from offset 6 (what the
 * snapshot's own checksum covers), computed a chunk at a time as they come: one pass over an
 * 8 MiB snapshot in the decode's turn was 3-8 ms of every read of it.
 */
export async function readSnapshotValue(storage: Storage, key: Buffer, value: Buffer): Promise<{ parts: Buffer[]; checksum?: number }> {
  if (!isChunkHeader(value)) return { parts: [value] };
  const chunks = value.readUInt32BE(2);
  // One chunk at a time: LevelDB's own copy of each is freed before the next is read (one
  // getMany of all held them at once, and the allocator kept those 130 MB at 1M keys as the
  // process's resident memory; 8 at a time measured slower than 1). Not through the block
  // cache, whose hot blocks a snapshot read once would push out.
  const parts: Buffer[] = [];
  let checksum = 0;
  let at = 0;
  for (let i = 0; i < chunks; i++) {
    // classic-level's own option, passed through by the sublevel; abstract-level does not type it.
    const part = await storage.snapshotChunks.get(chunkKey(key, i), { fillCache: false } as object);
    if (part === undefined) throw new Error(`snapshot chunk ${i} of ${chunks} is missing`);
    parts.push(part);
    if (at + part.length > CHECKSUM_FROM) checksum = crc32(at >= CHECKSUM_FROM ? part : part.subarray(CHECKSUM_FROM - at), checksum);
    at += part.length;
  }
  return { parts, checksum };
}

/** Ops that store `bytes` as the snapshot at `key` (chunked when large). */
export function snapshotPutOps(storage: Storage, key: Buffer, bytes: Buffer): unknown[] {
  if (bytes.length <= SNAPSHOT_CHUNK_BYTES) return [{ type: 'put', sublevel: storage.snapshots, key, value: bytes }];
  const chunks = Math.ceil(bytes.length / SNAPSHOT_CHUNK_BYTES);
  const ops: unknown[] = [];
  for (let i = 0; i < chunks; i++) {
    ops.push({ type: 'put', sublevel: storage.snapshotChunks, key: chunkKey(key, i), value: bytes.subarray(i * SNAPSHOT_CHUNK_BYTES, (i + 1) * SNAPSHOT_CHUNK_BYTES) });
  }
  ops.push({ type: 'put', sublevel: storage.snapshots, key, value: chunkHeader(chunks, bytes.length) });
  return ops;
}

/** Ops that delete the snapshot at `key` and its chunks. */
export async function snapshotDeleteOps(storage: Storage, key: Buffer): Promise<unknown[]> {
  const ops: unknown[] = [{ type: 'del', sublevel: storage.snapshots, key }];
  for await (const chunk of storage.snapshotChunks.keys({ gte: chunkKey(key, 0), lte: chunkKey(key, 0xffffffff) })) {
    ops.push({ type: 'del', sublevel: storage.snapshotChunks, key: chunk });
  }
  return ops;
}
