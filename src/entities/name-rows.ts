import { InlineReadModels, NameRow } from '../journal/inline-read-models';
import { EntityRef } from '../journal/keys';

/** Rows read in one store call at most (bounds the work of one callback). */
const MOST_PER_READ = 1024;

interface Asked {
  readonly ref: EntityRef;
  readonly resolve: (row: NameRow | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Reads cache-name rows, those asked in the same turn of the event loop together: a batch
 * naming thousands of caches that are not loaded (most of them missing) costs one store call
 * per MOST_PER_READ names, not a LevelDB get, a callback and a promise each on the main thread.
 * Each row is read after it was asked for, so the answer is the one a read of its own would give.
 */
export class NameRows {
  private asked: Asked[] | undefined;

  constructor(private readonly readModels: InlineReadModels) {}

  row(ref: EntityRef): Promise<NameRow | undefined> {
    return new Promise((resolve, reject) => {
      if (this.asked === undefined) {
        this.asked = [];
        queueMicrotask(() => this.read());
      }
      this.asked.push({ ref, resolve, reject });
    });
  }

  private read(): void {
    const asked = this.asked ?? [];
    this.asked = undefined;
    for (let from = 0; from < asked.length; from += MOST_PER_READ) {
      const slice = asked.slice(from, from + MOST_PER_READ);
      this.readModels.cacheRows(slice.map((a) => a.ref)).then(
        (rows) => slice.forEach((a, i) => a.resolve(rows[i])),
        (error: unknown) => slice.forEach((a) => a.reject(error)),
      );
    }
  }
}
