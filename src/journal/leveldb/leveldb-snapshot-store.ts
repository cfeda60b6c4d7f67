import { Logger } from '@nestjs/common';
import { CacheState } from '../../domain';
import { decodeState, encodeState } from '../codec';
import { EntityRef, MAX_SEQ, entityIdOf, readUint64BE, withSeq } from '../keys';
import { SnapshotRecord, SnapshotStore } from '../snapshot-store';
import { PointInTimeTooLargeError } from '../journal';
import { isChunkHeader, readSnapshotValue, snapshotDeleteOps, snapshotPutOps } from './snapshot-chunks';
import { Storage } from './storage';

/** Snapshots in the `snapshots` key space, by `entityId + seq`. */
export class LevelDbSnapshotStore extends SnapshotStore {
  private readonly logger = new Logger('Snapshots');

  /**
   * @param snapshotsKept snapshots kept per cache (newest first): more of them let
   *   point-in-time reads start nearer their point and `snapshots:K` retention cut deeper.
   */
  constructor(
    private readonly storage: Storage,
    private readonly snapshotsKept = 2,
  ) {
    super();
  }

  async save(ref: EntityRef, seq: number, state: CacheState): Promise<void> {
    const entityId = entityIdOf(ref);
    await this.storage.db.batch(snapshotPutOps(this.storage, withSeq(entityId, seq), encodeState(state)) as never);
    const older: Buffer[] = [];
    for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, 0), lt: withSeq(entityId, seq), reverse: true })) older.push(key);
    const stale = older.slice(this.snapshotsKept - 1);
    const ops: unknown[] = [];
    for (const key of stale) ops.push(...(await snapshotDeleteOps(this.storage, key)));
    if (ops.length > 0) await this.storage.db.batch(ops as never);
  }

  async load(ref: EntityRef, maxSeq = MAX_SEQ, maxBytes = Infinity, only?: ReadonlySet<string>): Promise<SnapshotRecord | undefined> {
    const entityId = entityIdOf(ref);
    // Keys first, then one value at a time: an iterator over values would read ahead the
    // older snapshots too (each can be as large as the whole cache).
    const keys: Buffer[] = [];
    for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, 0), lte: withSeq(entityId, maxSeq), reverse: true })) keys.push(key);
    for (const key of keys) {
      const seq = readUint64BE(key, entityId.length);
      try {
        const value = await this.storage.snapshots.get(key);
        if (value === undefined) continue;
        const stored = isChunkHeader(value) ? readUint64BE(value, 6) : value.length;
        if (stored > maxBytes) throw new PointInTimeTooLargeError(maxBytes, stored);
        const read = await readSnapshotValue(this.storage, key, value);
        return { seq, state: decodeState(read.parts, { only, checksum: read.checksum }) };
      } catch (error) {
        if (error instanceof PointInTimeTooLargeError) throw error;
        this.logger.warn(`snapshot of ${JSON.stringify(ref)} at seq ${seq} is unreadable (${(error as Error).message}); falling back`);
      }
    }
    return undefined;
  }

  async seqs(ref: EntityRef): Promise<number[]> {
    const entityId = entityIdOf(ref);
    const seqs: number[] = [];
    for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, 0), lte: withSeq(entityId, MAX_SEQ), reverse: true })) {
      seqs.push(readUint64BE(key, entityId.length));
    }
    return seqs;
  }
}
