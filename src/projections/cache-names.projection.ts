import { Packr } from 'msgpackr';
import { Envelope } from '../journal/journal';
import { CacheState } from '../domain';
import { EntityRef, decodeEntityId, encodeEntityId, encodeOrgPrefix, prefixEnd } from '../journal/keys';
import { Storage, Sublevel } from '../journal/storage';
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
  readonly rows: Sublevel;

  constructor(storage: Storage) {
    this.rows = storage.projectionRows('names');
  }

  async apply({ entityId, event }: Envelope, batch: ProjectionBatch): Promise<void> {
    switch (event.type) {
      case 'Created':
      case 'DescriptionChanged':
        batch.put(entityId, packr.pack([event.description, false]));
        return;
      case 'CacheDeleted': {
        await batch.checkpoint(); // the description may have been put earlier in this run
        const previous = await this.rows.get(entityId);
        const description = previous ? (packr.unpack(previous) as [string, boolean])[0] : '';
        batch.put(entityId, packr.pack([description, true]));
        return;
      }
      default:
        return;
    }
  }

  /**
   * Makes this cache's row equal to the one `state` implies, in one write; no other row is
   * touched. Returns 1 when the row was wrong. Call it between two runs (`ProjectionRunner.exclusive`).
   */
  async repair(ref: EntityRef, state: CacheState): Promise<number> {
    const key = encodeEntityId(ref);
    const expected = state.status === 'absent' ? undefined : packr.pack([state.description, state.status === 'deleted']);
    const actual = await this.rows.get(key);
    if (expected === undefined ? actual === undefined : actual !== undefined && Buffer.from(actual).equals(expected)) return 0;
    if (expected === undefined) await this.rows.del(key);
    else await this.rows.put(key, expected);
    return 1;
  }

  /** Whether the read model has this cache as live. */
  async isLive(ref: EntityRef): Promise<boolean> {
    const row = await this.rows.get(encodeEntityId(ref));
    return row !== undefined && !(packr.unpack(row) as [string, boolean])[1];
  }

  /** The org's caches, live ones only unless `includeDeleted`. */
  async list(org: string, includeDeleted = false): Promise<CacheNameRow[]> {
    const prefix = encodeOrgPrefix(org);
    const out: CacheNameRow[] = [];
    for await (const [key, value] of this.rows.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
      const [description, deleted] = packr.unpack(value) as [string, boolean];
      if (deleted && !includeDeleted) continue;
      out.push({ cacheName: decodeEntityId(key).ref.name, description, deleted });
    }
    return out;
  }

  /** Every live cache of every org (for recovery at start). */
  async *allLive(): AsyncGenerator<EntityRef> {
    for await (const [key, value] of this.rows.iterator()) {
      const [, deleted] = packr.unpack(value) as [string, boolean];
      if (!deleted) yield decodeEntityId(key).ref;
    }
  }
}
