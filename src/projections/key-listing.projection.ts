import { CacheState } from '../domain';
import { Envelope } from '../journal/journal';
import { EntityRef, encodeEntityId, prefixEnd, readUint64BE, uint64BE } from '../journal/keys';
import { Storage, Sublevel } from '../journal/storage';
import { Projection, ProjectionBatch } from './projection-runner';

/** Per cache: its keys and their `expiresAt`. Row key: `[entityId][key utf8]`. */
export class KeyListingProjection implements Projection {
  readonly name = 'key-listing';
  readonly rows: Sublevel;

  constructor(storage: Storage) {
    this.rows = storage.projectionRows('keys');
  }

  async apply({ entityId, event }: Envelope, batch: ProjectionBatch): Promise<void> {
    switch (event.type) {
      case 'Set':
        batch.put(Buffer.concat([entityId, Buffer.from(event.key, 'utf8')]), uint64BE(event.expiresAt));
        return;
      case 'Deleted':
      case 'Expired':
      case 'Evicted':
        batch.del(Buffer.concat([entityId, Buffer.from(event.key, 'utf8')]));
        return;
      case 'Flushed':
      case 'CacheDeleted':
        // Rows of this run are not in the database yet: write them first, then clear.
        await batch.checkpoint();
        for await (const key of this.rows.keys({ gt: entityId, lt: prefixEnd(entityId) })) batch.del(key);
        return;
      default:
        return;
    }
  }

  /**
   * Makes this cache's rows equal to those `state` implies (its entries, expired ones not
   * yet journaled included), in one batch; other caches' rows are not touched. Returns how
   * many rows were wrong. Call it between two runs (`ProjectionRunner.exclusive`).
   */
  async repair(ref: EntityRef, state: CacheState, storage: Storage): Promise<number> {
    const prefix = encodeEntityId(ref);
    const wanted = new Map<string, Buffer>();
    if (state.status === 'live') {
      for (const [key, entry] of state.entries.entries()) wanted.set(Buffer.concat([prefix, Buffer.from(key, 'utf8')]).toString('hex'), uint64BE(entry.expiresAt));
    }
    const ops: unknown[] = [];
    for await (const [row, value] of this.rows.iterator({ gt: prefix, lt: prefixEnd(prefix) })) {
      const hex = row.toString('hex');
      const expected = wanted.get(hex);
      if (expected === undefined) ops.push({ type: 'del', sublevel: this.rows, key: row });
      else if (!expected.equals(value)) ops.push({ type: 'put', sublevel: this.rows, key: row, value: expected });
      wanted.delete(hex);
    }
    for (const [hex, value] of wanted) ops.push({ type: 'put', sublevel: this.rows, key: Buffer.from(hex, 'hex'), value });
    if (ops.length > 0) await storage.db.batch(ops as never);
    return ops.length;
  }

  /** Live keys of a cache, in byte order of the key. */
  async list(ref: EntityRef, now: number): Promise<string[]> {
    const prefix = encodeEntityId(ref);
    const keys: string[] = [];
    for await (const [row, value] of this.rows.iterator({ gt: prefix, lt: prefixEnd(prefix) })) {
      const expiresAt = readUint64BE(value, 0);
      if (expiresAt === 0 || expiresAt > now) keys.push(row.toString('utf8', prefix.length));
    }
    return keys;
  }
}
