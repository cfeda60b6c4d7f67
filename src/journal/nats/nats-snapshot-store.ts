import { Logger } from '@nestjs/common';
import { KV } from '@nats-io/kv';
import { CacheState } from '../../domain';
import { decodeState, encodeState } from '../codec';
import { PointInTimeTooLargeError } from '../journal';
import { EntityRef, MAX_SEQ } from '../keys';
import { SnapshotRecord, SnapshotStore } from '../snapshot-store';
import { Subjects } from './subjects';

/** One snapshot in the index: its seq and how many chunks hold its bytes. */
interface IndexEntry {
  readonly seq: number;
  readonly chunks: number;
  readonly bytes: number;
}

const CAS_ATTEMPTS = 10;

/**
 * Snapshots in a JetStream KV bucket, readable by every node. A snapshot is split into
 * chunks below the server's message limit (`<org>.<cache>.<seq>.<i>`); the entity's index
 * (`<org>.<cache>.index`, newest first) is written last, with compare-and-set, so a reader
 * never finds a snapshot whose chunks are not all there and two nodes snapshotting one
 * cache do not lose each other's entries.
 */
export class NatsSnapshotStore extends SnapshotStore {
  private readonly logger = new Logger('NatsSnapshots');

  private kv!: KV;
  private chunkBytes = 512 * 1024;

  constructor(
    private readonly subjects: Subjects,
    private readonly snapshotsKept = 2,
  ) {
    super();
  }

  /** Binds the store to its bucket (at open); chunks stay below the server's message size. */
  open(kv: KV, maxPayload: number): void {
    this.kv = kv;
    this.chunkBytes = Math.max(4096, maxPayload - 4096);
  }

  private indexKey(ref: EntityRef): string {
    return `${this.subjects.kvKey(ref)}.index`;
  }

  private chunkKey(ref: EntityRef, seq: number, i: number): string {
    return `${this.subjects.kvKey(ref)}.${seq}.${i}`;
  }

  private async readIndex(ref: EntityRef): Promise<{ entries: IndexEntry[]; revision: number }> {
    const entry = await this.kv.get(this.indexKey(ref));
    if (entry === null || entry.length === 0) return { entries: [], revision: 0 };
    return { entries: entry.json<IndexEntry[]>(), revision: entry.revision };
  }

  async save(ref: EntityRef, seq: number, state: CacheState): Promise<void> {
    const bytes = encodeState(state);
    const chunks = Math.max(1, Math.ceil(bytes.length / this.chunkBytes));
    for (let i = 0; i < chunks; i++) await this.kv.put(this.chunkKey(ref, seq, i), bytes.subarray(i * this.chunkBytes, (i + 1) * this.chunkBytes));
    for (let attempt = 1; ; attempt++) {
      const { entries, revision } = await this.readIndex(ref);
      const list = entries.filter((e) => e.seq !== seq);
      list.push({ seq, chunks, bytes: bytes.length });
      list.sort((a, b) => b.seq - a.seq);
      const kept = [...list.filter((e) => e.seq > seq), ...list.filter((e) => e.seq <= seq).slice(0, this.snapshotsKept)];
      const gone = list.filter((e) => !kept.includes(e));
      try {
        const value = JSON.stringify(kept);
        if (revision === 0) await this.kv.create(this.indexKey(ref), value);
        else await this.kv.update(this.indexKey(ref), value, revision);
      } catch (error) {
        if (attempt < CAS_ATTEMPTS) continue; // another node changed the index: read it again
        throw error;
      }
      for (const old of gone) for (let i = 0; i < old.chunks; i++) await this.kv.purge(this.chunkKey(ref, old.seq, i)).catch(() => undefined);
      return;
    }
  }

  async load(ref: EntityRef, maxSeq = MAX_SEQ, maxBytes = Infinity, only?: ReadonlySet<string>): Promise<SnapshotRecord | undefined> {
    const { entries } = await this.readIndex(ref);
    for (const entry of entries) {
      if (entry.seq > maxSeq) continue;
      if (entry.bytes > maxBytes) throw new PointInTimeTooLargeError(maxBytes, entry.bytes);
      try {
        const parts: Uint8Array[] = [];
        for (let i = 0; i < entry.chunks; i++) {
          const chunk = await this.kv.get(this.chunkKey(ref, entry.seq, i));
          if (chunk === null || chunk.length === 0) throw new Error(`chunk ${i} of ${entry.chunks} is missing`);
          // A copy: the cache keeps its values in these parts, and a message's bytes may be a view of more.
          parts.push(Buffer.from(chunk.value));
        }
        const length = parts.reduce((sum, part) => sum + part.length, 0);
        if (length !== entry.bytes) throw new Error(`${length} bytes where ${entry.bytes} were written`);
        return { seq: entry.seq, state: decodeState(parts, { only }) };
      } catch (error) {
        this.logger.error(`snapshot of ${JSON.stringify(ref)} at seq ${entry.seq} is unreadable (${(error as Error).message}); trying an older one or a full replay`);
      }
    }
    return undefined;
  }

  async seqs(ref: EntityRef): Promise<number[]> {
    return (await this.readIndex(ref)).entries.map((e) => e.seq);
  }
}
