import { Envelope } from '../journal/journal';
import { readUint64BE, uint64BE, withSeq } from '../journal/keys';
import { Storage, Sublevel } from '../journal/storage';
import { Projection, ProjectionBatch } from './projection-runner';

/**
 * The global offset of every event, by its journal key (`entityId + seq`): the reverse of
 * the global index, so a cache's history can be listed with offsets, and compaction can
 * drop the global-index rows of the events it removes.
 */
export class EventOffsetsProjection implements Projection {
  readonly name = 'event-offsets';
  readonly rows: Sublevel;

  constructor(storage: Storage) {
    this.rows = storage.projectionRows('event-offsets');
  }

  apply({ entityId, seq, offset }: Envelope, batch: ProjectionBatch): void {
    batch.put(withSeq(entityId, seq), uint64BE(offset));
  }

  /** Offsets of the given journal keys (undefined where unknown). */
  async offsetsOf(journalKeys: Buffer[]): Promise<Array<number | undefined>> {
    if (journalKeys.length === 0) return [];
    const values = await this.rows.getMany(journalKeys);
    return values.map((value) => (value === undefined ? undefined : readUint64BE(value, 0)));
  }
}
