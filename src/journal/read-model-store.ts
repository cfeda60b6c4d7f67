/**
 * Key spaces for read models kept beside the journal (projection rows and their offsets,
 * task records). Keys and values are bytes; a range scan is in byte order. A write of
 * several ops is atomic, so a projection's rows and its offset never disagree.
 */
export interface KeyRange {
  readonly gt?: Buffer;
  readonly gte?: Buffer;
  readonly lt?: Buffer;
  readonly lte?: Buffer;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export type ReadModelOp =
  | { readonly type: 'put'; readonly space: string; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: 'del'; readonly space: string; readonly key: Buffer };

export abstract class ReadModelStore {
  abstract get(space: string, key: Buffer): Promise<Buffer | undefined>;
  abstract getMany(space: string, keys: readonly Buffer[]): Promise<Array<Buffer | undefined>>;
  abstract entries(space: string, range?: KeyRange): AsyncIterable<[Buffer, Buffer]>;
  abstract write(ops: readonly ReadModelOp[], options?: { sync?: boolean }): Promise<void>;
  /** Removes every row of the space. */
  abstract clear(space: string): Promise<void>;
  /** Resolves once the storage takes writes again after a failed one (at once when it does). */
  abstract whenWritable(): Promise<void>;
  /** A read or write of these spaces failed with `error`: see `Journal.report`. */
  report(error: unknown): void {
    void error;
  }
}

/** The space of one projection's rows. */
export const projectionSpace = (name: string): string => `projection:${name}`;
/** Where projections keep their last applied offset (row key: the projection's name). */
export const OFFSETS_SPACE = 'offsets';
export const TASKS_SPACE = 'tasks';
