import { Envelope } from '../journal/journal';
import { EntityRef, encodeEntityId, prefixEnd, readUint64BE, uint64BE } from '../journal/keys';
import { ReadModelStore, projectionSpace } from '../journal/read-model-store';
import { Projection, ProjectionBatch } from './projection-runner';

/** Per cache: its keys and their `expiresAt`. Row key: `[entityId][key utf8]`. */
export class KeyListingProjection implements Projection {
  readonly name = 'key-listing';
  readonly space = projectionSpace('keys');

  constructor(private readonly store: ReadModelStore) {}

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
        for await (const [key] of this.store.entries(this.space, { gt: entityId, lt: prefixEnd(entityId) })) batch.del(key);
        return;
      default:
        return;
    }
  }

  /** Live keys of a cache, in byte order of the key. */
  async list(ref: EntityRef, now: number): Promise<string[]> {
    const prefix = encodeEntityId(ref);
    const keys: string[] = [];
    for await (const [row, value] of this.store.entries(this.space, { gt: prefix, lt: prefixEnd(prefix) })) {
      const expiresAt = readUint64BE(value, 0);
      if (expiresAt === 0 || expiresAt > now) keys.push(row.toString('utf8', prefix.length));
    }
    return keys;
  }
}
