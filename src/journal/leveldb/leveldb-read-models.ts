import { KeyRange, OFFSETS_SPACE, ReadModelOp, ReadModelStore, TASKS_SPACE } from '../read-model-store';
import { Storage, Sublevel } from './storage';

const PROJECTION_PREFIX = 'projection:';

/** Read-model spaces as LevelDB sublevels: `offsets`, `tasks`, and one per projection under `projections`. */
export class LevelDbReadModels extends ReadModelStore {
  private readonly spaces = new Map<string, Sublevel>();

  constructor(private readonly storage: Storage) {
    super();
    this.spaces.set(OFFSETS_SPACE, storage.offsets);
    this.spaces.set(TASKS_SPACE, storage.tasks);
  }

  private sublevel(space: string): Sublevel {
    let sublevel = this.spaces.get(space);
    if (sublevel === undefined) {
      if (!space.startsWith(PROJECTION_PREFIX)) throw new RangeError(`unknown read-model space ${JSON.stringify(space)}`);
      sublevel = this.storage.projectionRows(space.slice(PROJECTION_PREFIX.length));
      this.spaces.set(space, sublevel);
    }
    return sublevel;
  }

  get(space: string, key: Buffer): Promise<Buffer | undefined> {
    return this.sublevel(space).get(key);
  }

  getMany(space: string, keys: readonly Buffer[]): Promise<Array<Buffer | undefined>> {
    return keys.length === 0 ? Promise.resolve([]) : this.sublevel(space).getMany([...keys]);
  }

  async *entries(space: string, range: KeyRange = {}): AsyncGenerator<[Buffer, Buffer]> {
    yield* this.sublevel(space).iterator(range as never);
  }

  async write(ops: readonly ReadModelOp[], options: { sync?: boolean } = {}): Promise<void> {
    // Ops name their sublevel: one LevelDB batch across spaces, atomic.
    const batch = ops.map((op) =>
      op.type === 'put' ? { type: 'put', sublevel: this.sublevel(op.space), key: op.key, value: op.value } : { type: 'del', sublevel: this.sublevel(op.space), key: op.key },
    );
    await this.storage.db.batch(batch as never, { sync: options.sync ?? false }).catch((error) => {
      this.storage.healer.failed(error); // a failed write poisons LevelDB's handle until it is reopened
      throw error;
    });
  }

  report(error: unknown): void {
    this.storage.healer.report(error);
  }

  whenWritable(): Promise<void> {
    return this.storage.healer.healed;
  }

  clear(space: string): Promise<void> {
    return this.sublevel(space).clear();
  }
}
