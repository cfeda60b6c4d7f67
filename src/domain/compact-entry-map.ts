import { EntryMap } from './entry-map';
import { KeyIndex } from './key-index';
import type { Entry } from './state';

const SLAB_BYTES = 1 << 20;
/**
 * A cache's first slab; each next one doubles up to SLAB_BYTES. One slab of SLAB_BYTES per
 * cache made an org's 10,000 one-key caches hold 10 GB of buffers (mostly untouched, but
 * counted by the GC, whose pauses then stalled every org for seconds).
 */
const FIRST_SLAB_BYTES = 4 * 1024;
/** Values larger than this get their own buffer instead of a place in a slab. */
const LARGE_VALUE = 64 * 1024;
const NO_SLAB = -1;
const EMPTY = new Uint8Array(0);
/** End of the recency list. */
const NONE = -1;

/** A cache's entries column by column, in recency order (least recently used first). */
export interface EntryColumns {
  readonly keys: string[];
  /** Value lengths in bytes. */
  readonly lengths: Uint32Array<ArrayBuffer>;
  readonly expiresAt: Float64Array<ArrayBuffer>;
  readonly versions: Float64Array<ArrayBuffer>;
}

/**
 * The committed entries of a cache, stored compactly: a key → slot index (key-index.ts) and, per slot,
 * numbers in typed arrays; value bytes are copied into shared 1 MiB slabs (large values
 * keep their own buffer). Per key this costs 8 bytes of index, the key string, ~28 bytes of
 * slot fields and the value bytes, instead of an Entry object, a Buffer view object and
 * the whole journal record the view would keep alive.
 *
 * Slabs are append-only: a value's bytes are never overwritten, so an Entry handed out by
 * `get` (a view into a slab) stays valid after the key is changed. Space freed by
 * overwrites and deletes is reclaimed by copying the live values into fresh slabs once it
 * exceeds the live bytes (amortized O(1) per write).
 *
 * Order is recency: slots are linked oldest → newest in two typed arrays, so iteration
 * yields the least recently used key first. A new key goes to the newest end, and so does a
 * key `touch`ed by a read (O(1), nothing allocated); without touches the order is `Map`
 * insertion order, so `decide` and `evolve` work on it unchanged. Replacing a key's value in
 * place (`set` of an existing key) keeps its place, as `Map` does; `evolve` deletes first.
 */
export class CompactEntryMap implements EntryMap<Entry> {
  private slabOf = new Int32Array(16);
  private offsetOf = new Int32Array(16);
  private lengthOf = new Int32Array(16);
  private expiresAtOf = new Float64Array(16);
  private versionOf = new Float64Array(16);
  private olderOf = new Int32Array(16);
  private newerOf = new Int32Array(16);
  private keyOf: Array<string | undefined> = [];
  private index = new KeyIndex(this.keyOf);
  private oldest = NONE;
  private newest = NONE;
  private large: Array<Uint8Array | undefined> = [];
  private free: number[] = [];
  private nextSlot = 0;
  private slabs: Buffer[] = [];
  private position = SLAB_BYTES;
  private liveBytes = 0;
  private garbageBytes = 0;

  get size(): number {
    return this.index.size;
  }

  get(key: string): Entry | undefined {
    const slot = this.index.slotOf(key);
    return slot === NONE ? undefined : this.entryAt(slot);
  }

  has(key: string): boolean {
    return this.index.slotOf(key) !== NONE;
  }

  set(key: string, entry: Entry): this {
    return this.setRaw(key, entry.value, 0, entry.value.byteLength, entry.expiresAt, entry.version);
  }

  /** `set` from bytes `src[offset, offset + length)` (copied), without an Entry (snapshot loading). */
  setRaw(key: string, src: Uint8Array, offset: number, length: number, expiresAt: number, version: number): this {
    const existing = this.index.slotOf(key);
    let slot: number;
    if (existing !== NONE) {
      this.release(existing);
      slot = existing;
    } else {
      slot = this.free.length > 0 ? this.free.pop()! : this.newSlot();
      this.keyOf[slot] = key;
      this.index.add(key, slot);
      this.linkNewest(slot);
    }
    this.store(slot, src, offset, length);
    this.expiresAtOf[slot] = expiresAt;
    this.versionOf[slot] = version;
    this.maybeCompact();
    return this;
  }

  delete(key: string): boolean {
    const slot = this.index.remove(key);
    if (slot === NONE) return false;
    this.release(slot);
    this.unlink(slot);
    this.keyOf[slot] = undefined;
    this.free.push(slot);
    this.maybeCompact();
    return true;
  }

  clear(): void {
    this.slabOf = new Int32Array(16);
    this.offsetOf = new Int32Array(16);
    this.lengthOf = new Int32Array(16);
    this.expiresAtOf = new Float64Array(16);
    this.versionOf = new Float64Array(16);
    this.olderOf = new Int32Array(16);
    this.newerOf = new Int32Array(16);
    this.keyOf = [];
    this.index = new KeyIndex(this.keyOf);
    this.oldest = NONE;
    this.newest = NONE;
    this.large = [];
    this.free = [];
    this.nextSlot = 0;
    this.slabs = [];
    this.position = SLAB_BYTES;
    this.liveBytes = 0;
    this.garbageBytes = 0;
  }

  /**
   * A read counts as use: the key becomes the most recently used, the last to be evicted.
   * O(1) and allocation-free (the GET path). False when the key is not there.
   */
  touch(key: string): boolean {
    const slot = this.index.slotOf(key);
    if (slot === NONE) return false;
    this.moveToNewest(slot);
    return true;
  }

  /** The slots oldest first; the next one is read before yielding, so a touch mid-walk is safe (as with `Map`). */
  private *slots(): IterableIterator<number> {
    for (let slot = this.oldest; slot !== NONE; ) {
      const next = this.newerOf[slot];
      yield slot;
      slot = next;
    }
  }

  *entries(): IterableIterator<[string, Entry]> {
    for (const slot of this.slots()) yield [this.keyOf[slot]!, this.entryAt(slot)];
  }

  *keys(): IterableIterator<string> {
    for (const slot of this.slots()) yield this.keyOf[slot]!;
  }

  /** Every entry as raw parts (its bytes are `src[offset, offset + length)`), least recently used first. */
  forEachRaw(visit: (key: string, src: Uint8Array, offset: number, length: number, expiresAt: number, version: number) => void): void {
    for (let slot = this.oldest; slot !== NONE; slot = this.newerOf[slot]) {
      const key = this.keyOf[slot]!;
      const slab = this.slabOf[slot];
      const length = this.lengthOf[slot];
      if (slab === NO_SLAB) visit(key, this.large[slot]!, 0, length, this.expiresAtOf[slot], this.versionOf[slot]);
      else visit(key, this.slabs[slab], this.offsetOf[slot], length, this.expiresAtOf[slot], this.versionOf[slot]);
    }
  }

  /**
   * The entries as columns, least recently used first: keys, and per key its value length,
   * `expiresAt` and version in typed arrays (snapshot writing: no object per entry).
   * `copyValues` writes every value's bytes, in the same order, into `out` from `at`.
   */
  columns(): EntryColumns & { copyValues(out: Uint8Array, at: number): void } {
    const n = this.index.size;
    const keys = new Array<string>(n);
    const lengths = new Uint32Array(n);
    const expiresAt = new Float64Array(n);
    const versions = new Float64Array(n);
    let i = 0;
    for (let slot = this.oldest; slot !== NONE; slot = this.newerOf[slot], i++) {
      keys[i] = this.keyOf[slot]!;
      lengths[i] = this.lengthOf[slot];
      expiresAt[i] = this.expiresAtOf[slot];
      versions[i] = this.versionOf[slot];
    }
    const copyValues = (out: Uint8Array, at: number) => {
      for (let slot = this.oldest; slot !== NONE; slot = this.newerOf[slot]) {
        const length = this.lengthOf[slot];
        const slab = this.slabOf[slot];
        if (slab === NO_SLAB) out.set(this.large[slot]!, at);
        else this.slabs[slab].copy(out, at, this.offsetOf[slot], this.offsetOf[slot] + length);
        at += length;
      }
    };
    return { keys, lengths, expiresAt, versions, copyValues };
  }

  /**
   * A map of the given columns (least recently used first) whose values are the bytes of
   * `values` one after another (a loaded snapshot's chunks). The small values stay where they
   * are: each part of `values` becomes a slab as it is (nothing is copied, and slabs are never
   * written to); the few that straddle two parts are copied into one slab, large values each
   * into their own buffer. Throws on a repeated key or values that do not add up.
   */
  static fromColumns(columns: EntryColumns, values: readonly Buffer[]): CompactEntryMap {
    const map = new CompactEntryMap();
    const { keys, lengths, expiresAt, versions } = columns;
    const n = keys.length;
    const capacity = Math.max(16, n);
    // The columns become the slot arrays as they are when they fit (no second copy of them).
    const adopt = <T extends Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>>(column: T, make: (n: number) => T): T => {
      if (column.length === capacity) return column;
      const own = make(capacity);
      own.set(column);
      return own;
    };
    map.slabOf = new Int32Array(capacity);
    map.offsetOf = new Int32Array(capacity);
    map.lengthOf = adopt(new Int32Array(lengths.buffer, lengths.byteOffset, lengths.length), (size) => new Int32Array(size));
    map.expiresAtOf = adopt(expiresAt, (size) => new Float64Array(size));
    map.versionOf = adopt(versions, (size) => new Float64Array(size));
    map.olderOf = new Int32Array(capacity);
    map.newerOf = new Int32Array(capacity);
    map.keyOf = keys;
    const index = (map.index = new KeyIndex(keys, n));
    for (let i = 0; i < n; i++) {
      index.add(keys[i], i);
      map.olderOf[i] = i - 1;
      map.newerOf[i] = i + 1;
    }
    if (n > 0) {
      map.oldest = 0;
      map.newest = n - 1;
      map.newerOf[n - 1] = NONE;
    }
    map.nextSlot = n;

    const starts: number[] = [];
    let total = 0;
    for (const view of values) {
      starts.push(total);
      total += view.length;
    }
    /** Copies the bytes `[from, from + target.length)` of `values` into `target`. */
    const copyOut = (target: Uint8Array, from: number, part: number) => {
      for (let written = 0; written < target.length; part++) {
        const offset = from + written - starts[part];
        const step = Math.min(values[part].length - offset, target.length - written);
        values[part].copy(target, written, offset, offset + step);
        written += step;
      }
    };
    let part = 0;
    let partSlab = NO_SLAB; // the slab values[part] became, once a value is placed in it
    let at = 0; // where value i starts in `values` as a whole
    const straddling: Array<[entry: number, from: number, part: number]> = [];
    let straddlingBytes = 0;
    for (let i = 0; i < n; i++) {
      const length = lengths[i];
      if (length > 0x7fffffff || at + length > total) throw new RangeError('values past the end');
      while (part < values.length - 1 && at >= starts[part] + values[part].length) {
        part++;
        partSlab = NO_SLAB;
      }
      map.liveBytes += length;
      if (length === 0) {
        map.slabOf[i] = NO_SLAB;
        map.large[i] = EMPTY;
      } else if (length > LARGE_VALUE) {
        const own = new Uint8Array(length);
        copyOut(own, at, part);
        map.slabOf[i] = NO_SLAB;
        map.large[i] = own;
      } else if (at + length <= starts[part] + values[part].length) {
        if (partSlab === NO_SLAB) partSlab = map.slabs.push(values[part]) - 1;
        map.slabOf[i] = partSlab;
        map.offsetOf[i] = at - starts[part];
      } else {
        straddling.push([i, at, part]);
        straddlingBytes += length;
      }
      at += length;
    }
    if (at !== total) throw new RangeError('values longer than the entries');
    if (straddling.length > 0) {
      const slab = Buffer.allocUnsafeSlow(straddlingBytes);
      const slabIndex = map.slabs.push(slab) - 1;
      let offset = 0;
      for (const [i, from, fromPart] of straddling) {
        copyOut(slab.subarray(offset, offset + lengths[i]), from, fromPart);
        map.slabOf[i] = slabIndex;
        map.offsetOf[i] = offset;
        offset += lengths[i];
      }
    }
    // Slabs that are loaded parts are full, and never written to: new values go to new slabs.
    map.position = map.slabs.length > 0 ? map.slabs[map.slabs.length - 1].length : SLAB_BYTES;
    return map;
  }

  /** Keys with an expiry and their `expiresAt`, without building Entries (recovery). */
  *expiring(): IterableIterator<[string, number]> {
    for (let slot = this.oldest; slot !== NONE; slot = this.newerOf[slot]) if (this.expiresAtOf[slot] !== 0) yield [this.keyOf[slot]!, this.expiresAtOf[slot]];
  }

  /** The value of a key unless missing or expired at `now`, without building an Entry. */
  liveValue(key: string, now: number): Uint8Array | undefined {
    const slot = this.index.slotOf(key);
    if (slot === NONE) return undefined;
    const expiresAt = this.expiresAtOf[slot];
    return expiresAt !== 0 && expiresAt <= now ? undefined : this.valueAt(slot);
  }

  /** `liveValue` that counts as use (`touch`) when it finds the value: the GET path, one lookup. */
  useValue(key: string, now: number): Uint8Array | undefined {
    const slot = this.index.slotOf(key);
    if (slot === NONE) return undefined;
    const expiresAt = this.expiresAtOf[slot];
    if (expiresAt !== 0 && expiresAt <= now) return undefined;
    this.moveToNewest(slot);
    return this.valueAt(slot);
  }

  private linkNewest(slot: number): void {
    this.olderOf[slot] = this.newest;
    this.newerOf[slot] = NONE;
    if (this.newest === NONE) this.oldest = slot;
    else this.newerOf[this.newest] = slot;
    this.newest = slot;
  }

  private unlink(slot: number): void {
    const older = this.olderOf[slot];
    const newer = this.newerOf[slot];
    if (older === NONE) this.oldest = newer;
    else this.newerOf[older] = newer;
    if (newer === NONE) this.newest = older;
    else this.olderOf[newer] = older;
  }

  private moveToNewest(slot: number): void {
    if (slot === this.newest) return;
    this.unlink(slot);
    this.linkNewest(slot);
  }

  private entryAt(slot: number): Entry {
    return { value: this.valueAt(slot), expiresAt: this.expiresAtOf[slot], version: this.versionOf[slot] };
  }

  private valueAt(slot: number): Uint8Array {
    const slab = this.slabOf[slot];
    if (slab === NO_SLAB) return this.large[slot]!;
    const offset = this.offsetOf[slot];
    return this.slabs[slab].subarray(offset, offset + this.lengthOf[slot]);
  }

  private newSlot(): number {
    const slot = this.nextSlot++;
    if (slot >= this.slabOf.length) {
      const grow = <T extends Int32Array | Float64Array>(from: T): T => {
        const to = new (from.constructor as new (n: number) => T)(from.length * 2);
        to.set(from);
        return to;
      };
      this.slabOf = grow(this.slabOf);
      this.offsetOf = grow(this.offsetOf);
      this.lengthOf = grow(this.lengthOf);
      this.expiresAtOf = grow(this.expiresAtOf);
      this.versionOf = grow(this.versionOf);
      this.olderOf = grow(this.olderOf);
      this.newerOf = grow(this.newerOf);
    }
    return slot;
  }

  private store(slot: number, src: Uint8Array, offset: number, length: number): void {
    this.liveBytes += length;
    this.lengthOf[slot] = length;
    if (length > LARGE_VALUE) {
      // Own copy: the caller's buffer may be a view into something much larger.
      this.slabOf[slot] = NO_SLAB;
      this.large[slot] = Uint8Array.prototype.slice.call(src, offset, offset + length) as Uint8Array;
      return;
    }
    const slab = this.reserve(length);
    this.slabs[slab].set(length === src.byteLength && offset === 0 ? src : src.subarray(offset, offset + length), this.position);
    this.slabOf[slot] = slab;
    this.offsetOf[slot] = this.position;
    this.position += length;
    if (slot < this.large.length) this.large[slot] = undefined;
  }

  /** The slab with room for `length` more bytes at `position` (a new one if needed). */
  private reserve(length: number): number {
    const last = this.slabs.length - 1;
    if (last < 0 || this.position + length > this.slabs[last].length) {
      const size = Math.min(SLAB_BYTES, Math.max(FIRST_SLAB_BYTES, length, last < 0 ? 0 : 2 * this.slabs[last].length));
      this.slabs.push(Buffer.allocUnsafeSlow(size));
      this.position = 0;
    }
    return this.slabs.length - 1;
  }

  private release(slot: number): void {
    const length = this.lengthOf[slot];
    this.liveBytes -= length;
    if (this.slabOf[slot] === NO_SLAB) this.large[slot] = undefined;
    else this.garbageBytes += length;
  }

  private maybeCompact(): void {
    if (this.garbageBytes < 4 * SLAB_BYTES || this.garbageBytes < this.liveBytes) return;
    const old = this.slabs;
    this.slabs = [];
    this.position = SLAB_BYTES;
    for (let slot = this.oldest; slot !== NONE; slot = this.newerOf[slot]) {
      const slab = this.slabOf[slot];
      if (slab === NO_SLAB) continue;
      const length = this.lengthOf[slot];
      const offset = this.offsetOf[slot];
      const target = this.reserve(length);
      old[slab].copy(this.slabs[target], this.position, offset, offset + length);
      this.slabOf[slot] = target;
      this.offsetOf[slot] = this.position;
      this.position += length;
    }
    this.garbageBytes = 0;
  }
}
