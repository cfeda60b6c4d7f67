import { KeyRange, ReadModelOp, ReadModelStore } from '../read-model-store';

/** Read-model spaces in memory (sorted on each scan: for tests, not for size). */
export class MemoryReadModels extends ReadModelStore {
  private readonly spaces = new Map<string, Map<string, [Buffer, Buffer]>>();

  private space(name: string): Map<string, [Buffer, Buffer]> {
    let space = this.spaces.get(name);
    if (space === undefined) this.spaces.set(name, (space = new Map()));
    return space;
  }

  async get(space: string, key: Buffer): Promise<Buffer | undefined> {
    return this.space(space).get(key.toString('latin1'))?.[1];
  }

  async getMany(space: string, keys: readonly Buffer[]): Promise<Array<Buffer | undefined>> {
    const rows = this.space(space);
    return keys.map((key) => rows.get(key.toString('latin1'))?.[1]);
  }

  async *entries(space: string, range: KeyRange = {}): AsyncGenerator<[Buffer, Buffer]> {
    const inRange = ([key]: [Buffer, Buffer]) =>
      (range.gt === undefined || Buffer.compare(key, range.gt) > 0) &&
      (range.gte === undefined || Buffer.compare(key, range.gte) >= 0) &&
      (range.lt === undefined || Buffer.compare(key, range.lt) < 0) &&
      (range.lte === undefined || Buffer.compare(key, range.lte) <= 0);
    const rows = [...this.space(space).values()].filter(inRange).sort(([a], [b]) => Buffer.compare(a, b));
    if (range.reverse) rows.reverse();
    yield* rows.slice(0, range.limit ?? rows.length);
  }

  async write(ops: readonly ReadModelOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.space(op.space).set(op.key.toString('latin1'), [Buffer.from(op.key), Buffer.from(op.value)]);
      else this.space(op.space).delete(op.key.toString('latin1'));
    }
  }

  async whenWritable(): Promise<void> {}

  async clear(space: string): Promise<void> {
    this.space(space).clear();
  }
}
