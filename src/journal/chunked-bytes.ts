import { crc32 } from './crc32';

/**
 * Bytes stored in parts (a large snapshot's 1 MiB chunks), read in place: concatenating a
 * 130 MB snapshot was a third of loading it, mostly the first touch of that much new memory.
 */
export class ChunkedBytes {
  readonly length: number;
  private readonly starts: number[] = [];

  readonly parts: readonly Buffer[];

  constructor(parts: readonly Buffer[]) {
    this.parts = parts.filter((part) => part.length > 0);
    let length = 0;
    for (const part of this.parts) {
      this.starts.push(length);
      length += part.length;
    }
    this.length = length;
  }

  /** Bytes `[from, to)`: a view when one part holds them, else a copy. */
  range(from: number, to: number): Buffer {
    if (from < 0 || to > this.length || from > to) throw new RangeError(`bytes ${from}-${to} are outside 0-${this.length}`);
    const i = this.partAt(from);
    const start = this.starts[i];
    if (to - start <= this.parts[i].length) return this.parts[i].subarray(from - start, to - start);
    const out = Buffer.allocUnsafe(to - from);
    this.copyTo(out, from);
    return out;
  }

  /** Fills `target` with the bytes from `from` on. */
  copyTo(target: Uint8Array, from: number): void {
    if (from < 0 || from + target.length > this.length) throw new RangeError(`bytes ${from}-${from + target.length} are outside 0-${this.length}`);
    let written = 0;
    for (let i = this.partAt(from); written < target.length; i++) {
      const part = this.parts[i];
      const offset = from + written - this.starts[i];
      const take = Math.min(part.length - offset, target.length - written);
      target.set(offset === 0 && take === part.length ? part : part.subarray(offset, offset + take), written);
      written += take;
    }
  }

  /** The bytes from `from` to the end as views of the parts, in order. */
  viewsFrom(from: number): Buffer[] {
    if (from >= this.length) return [];
    const i = this.partAt(from);
    return [this.parts[i].subarray(from - this.starts[i]), ...this.parts.slice(i + 1)].filter((view) => view.length > 0);
  }

  /** CRC-32 of the bytes from `from` to the end. */
  crc32From(from: number): number {
    let crc = 0;
    for (const view of this.viewsFrom(from)) crc = crc32(view, crc);
    return crc;
  }

  private partAt(at: number): number {
    let low = 0;
    let high = this.parts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= at) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}
