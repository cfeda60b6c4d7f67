import { JournalCorruptError } from '../journal';
import { MAX_SEQ, decodeEntityId, readUint64BE, uint64BE, withSeq } from '../keys';
import { decodeRecord } from './record';
import { snapshotDeleteOps } from './snapshot-chunks';
import { Storage } from './storage';

const GLOBAL_READ_CHUNK = 512;
/** Newest global records checked on every start. */
export const TAIL_CHECK = 1024;

/**
 * LevelDB-only repair tools: a bounded check of the newest records on every start, a full
 * scan for the first damaged record, and a cut of the log before it. Not part of the
 * journal port (a replicated log repairs itself differently).
 */
export class LevelDbJournalRepair {
  constructor(private readonly storage: Storage) {}

  /**
   * Checks the newest `count` records of the global log: each must point at a journal
   * record that is present and intact. Cheap (bounded); recovery checks every record it
   * replays anyway.
   */
  async verifyTail(count = TAIL_CHECK): Promise<void> {
    const entries: Array<[number, Buffer]> = [];
    for await (const [key, value] of this.storage.global.iterator({ reverse: true, limit: count })) entries.push([readUint64BE(key, 0), value]);
    await this.verifyGlobalEntries(entries);
  }

  /** The lowest global offset whose record is missing or corrupt, or undefined when the journal is intact. */
  async findFirstCorrupt(): Promise<number | undefined> {
    let chunk: Array<[number, Buffer]> = [];
    const check = async () => {
      try {
        await this.verifyGlobalEntries(chunk);
      } catch (error) {
        if (error instanceof JournalCorruptError) return error.offset;
        throw error;
      }
      chunk = [];
      return undefined;
    };
    for await (const [key, value] of this.storage.global.iterator()) {
      chunk.push([readUint64BE(key, 0), value]);
      if (chunk.length >= GLOBAL_READ_CHUNK) {
        const bad = await check();
        if (bad !== undefined) return bad;
      }
    }
    return chunk.length > 0 ? check() : undefined;
  }

  /**
   * Deletes every event with global offset >= `fromOffset` (of every entity: each loses a
   * suffix, so per-entity sequences stay gapless) with its offset row, snapshots past the
   * new ends, and the projections' rows and offsets (they then rebuild). Returns how many
   * events were removed. The journal must be reloaded afterwards.
   */
  async truncateFrom(fromOffset: number): Promise<number> {
    const removed: Array<{ global: Buffer; key: Buffer }> = [];
    for await (const [key, value] of this.storage.global.iterator({ gte: uint64BE(fromOffset) })) removed.push({ global: key, key: value });
    const firstRemovedSeq = new Map<string, { entityId: Buffer; seq: number }>();
    const ops: unknown[] = [];
    for (const { global, key } of removed) {
      const { length } = decodeEntityId(key);
      const entityId = key.subarray(0, length);
      const seq = readUint64BE(key, length);
      const id = entityId.toString('hex');
      const known = firstRemovedSeq.get(id);
      if (known === undefined || seq < known.seq) firstRemovedSeq.set(id, { entityId: Buffer.from(entityId), seq });
      ops.push(
        { type: 'del', sublevel: this.storage.global, key: global },
        { type: 'del', sublevel: this.storage.journal, key },
        { type: 'del', sublevel: this.storage.eventOffsets, key },
      );
    }
    for (const { entityId, seq } of firstRemovedSeq.values()) {
      for await (const key of this.storage.snapshots.keys({ gte: withSeq(entityId, seq), lte: withSeq(entityId, MAX_SEQ) })) {
        ops.push(...(await snapshotDeleteOps(this.storage, key)));
      }
    }
    for (let i = 0; i < ops.length; i += 10_000) await this.storage.db.batch(ops.slice(i, i + 10_000) as never, { sync: true });
    // Projections may have applied removed events: they are rebuilt from scratch on this start.
    if (removed.length > 0) {
      await this.storage.offsets.clear();
      await this.storage.projections.clear(); // every projection's rows: nested sublevels share the range
    }
    return removed.length;
  }

  private async verifyGlobalEntries(entries: Array<[number, Buffer]>): Promise<void> {
    if (entries.length === 0) return;
    const values = await this.storage.journal.getMany(entries.map(([, key]) => key));
    entries.forEach(([offset, key], i) => {
      const { ref, length } = decodeEntityId(key);
      const seq = readUint64BE(key, length);
      const value = values[i];
      if (value === undefined) throw new JournalCorruptError(ref, seq, 'the record is missing', offset);
      decodeRecord(key.subarray(0, length), seq, value, offset);
    });
  }
}
