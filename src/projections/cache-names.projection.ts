import { Packr } from 'msgpackr';
import { Envelope } from '../journal/journal';
import { EntityRef, decodeEntityId, encodeOrgPrefix, prefixEnd } from '../journal/keys';
import { ReadModelStore, projectionSpace } from '../journal/read-model-store';
import { Projection, ProjectionBatch } from './projection-runner';

const packr = new Packr({ useRecords: false });

export interface CacheNameRow {
  readonly cacheName: string;
  readonly description: string;
  readonly deleted: boolean;
}

/** Per org: every cache name with its description and whether it is deleted. Row key: entityId. */
export class CacheNamesProjection implements Projection {
  readonly name = 'cache-names';
  readonly space = projectionSpace('names');

  constructor(private readonly store: ReadModelStore) {}

  async apply({ entityId, event }: Envelope, batch: ProjectionBatch): Promise<void> {
    switch (event.type) {
      case 'Created':
      case 'DescriptionChanged':
        batch.put(entityId, packr.pack([event.description, false]));
        return;
      case 'CacheDeleted': {
        await batch.checkpoint(); // the description may have been put earlier in this run
        const previous = await this.store.get(this.space, entityId);
        const description = previous ? (packr.unpack(previous) as [string, boolean])[0] : '';
        batch.put(entityId, packr.pack([description, true]));
        return;
      }
      default:
        return;
    }
  }

  /** The org's caches, live ones only unless `includeDeleted`. */
  async list(org: string, includeDeleted = false): Promise<CacheNameRow[]> {
    const prefix = encodeOrgPrefix(org);
    const out: CacheNameRow[] = [];
    for await (const [key, value] of this.store.entries(this.space, { gte: prefix, lt: prefixEnd(prefix) })) {
      const [description, deleted] = packr.unpack(value) as [string, boolean];
      if (deleted && !includeDeleted) continue;
      out.push({ cacheName: decodeEntityId(key).ref.name, description, deleted });
    }
    return out;
  }

  /** Every live cache of every org (for recovery at start). */
  async *allLive(): AsyncGenerator<EntityRef> {
    for await (const [key, value] of this.store.entries(this.space)) {
      const [, deleted] = packr.unpack(value) as [string, boolean];
      if (!deleted) yield decodeEntityId(key).ref;
    }
  }
}
