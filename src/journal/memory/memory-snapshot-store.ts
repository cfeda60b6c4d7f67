import { CacheState } from '../../domain';
import { decodeState, encodeState } from '../codec';
import { EntityRef, MAX_SEQ, entityIdOf } from '../keys';
import { PointInTimeTooLargeError } from '../journal';
import { SnapshotRecord, SnapshotStore } from '../snapshot-store';

/** Snapshots in memory, encoded (the caller's state keeps changing after `save`). */
export class MemorySnapshotStore extends SnapshotStore {
  private readonly byEntity = new Map<string, Array<{ seq: number; bytes: Buffer }>>();

  constructor(private readonly snapshotsKept = 2) {
    super();
  }

  async save(ref: EntityRef, seq: number, state: CacheState): Promise<void> {
    const key = entityIdOf(ref).toString('latin1');
    const list = (this.byEntity.get(key) ?? []).filter((s) => s.seq !== seq);
    list.push({ seq, bytes: encodeState(state) });
    list.sort((a, b) => b.seq - a.seq);
    const newer = list.filter((s) => s.seq > seq);
    const atOrOlder = list.filter((s) => s.seq <= seq).slice(0, this.snapshotsKept);
    this.byEntity.set(key, [...newer, ...atOrOlder]);
  }

  async load(ref: EntityRef, maxSeq = MAX_SEQ, maxBytes = Infinity, only?: ReadonlySet<string>): Promise<SnapshotRecord | undefined> {
    const found = (this.byEntity.get(entityIdOf(ref).toString('latin1')) ?? []).find((s) => s.seq <= maxSeq);
    if (found !== undefined && found.bytes.length > maxBytes) throw new PointInTimeTooLargeError(maxBytes, found.bytes.length);
    return found && { seq: found.seq, state: decodeState(found.bytes, { only }) };
  }

  async seqs(ref: EntityRef): Promise<number[]> {
    return (this.byEntity.get(entityIdOf(ref).toString('latin1')) ?? []).map((s) => s.seq);
  }
}
