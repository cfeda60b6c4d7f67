/**
 * The part of `Map` the domain uses for a cache's entries. A plain `Map` implements it,
 * and so does `OverlayMap`, the copy-on-write draft a batch of commands is decided on.
 */
export interface EntryMap<V> {
  readonly size: number;
  get(key: string): V | undefined;
  has(key: string): boolean;
  set(key: string, value: V): this;
  delete(key: string): boolean;
  clear(): void;
  entries(): IterableIterator<[string, V]>;
  keys(): IterableIterator<string>;
  /** Moves a key to the most recently used end of the order; a plain `Map` has none (see `touch` in state.ts). */
  touch?(key: string): boolean;
  /** The live value of a key, counted as use, in one lookup (see `useValue` in state.ts); absent on a plain `Map`. */
  useValue?(key: string, now: number): Uint8Array | undefined;
  /** The keys that have an expiry, with it, without making an entry object per key; absent on a plain `Map`. */
  expiring?(): IterableIterator<[string, number]>;
}

const TOMBSTONE = Symbol('deleted');

interface Local<V> {
  value: V | typeof TOMBSTONE;
  /** True when the key overrides a base key in place (keeps the base's iteration order). */
  inPlace: boolean;
}

/**
 * A draft over a base map that never touches the base. It mirrors `Map` semantics,
 * including insertion order (a deleted and re-set key moves to the end), so a decision
 * taken on the draft equals the decision taken on the base after the same changes.
 */
export class OverlayMap<V> implements EntryMap<V> {
  private readonly local = new Map<string, Local<V>>();
  private cleared = false;
  private count: number;

  constructor(private readonly base: EntryMap<V>) {
    this.count = base.size;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const local = this.local.get(key);
    if (local !== undefined) return local.value === TOMBSTONE ? undefined : local.value;
    return this.cleared ? undefined : this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): this {
    const local = this.local.get(key);
    if (local === undefined) {
      const inBase = !this.cleared && this.base.has(key);
      this.local.set(key, { value, inPlace: inBase });
      if (!inBase) this.count++;
    } else if (local.value === TOMBSTONE) {
      this.local.delete(key);
      this.local.set(key, { value, inPlace: false });
      this.count++;
    } else {
      local.value = value;
    }
    return this;
  }

  delete(key: string): boolean {
    if (!this.has(key)) return false;
    this.local.delete(key);
    this.local.set(key, { value: TOMBSTONE, inPlace: false });
    this.count--;
    return true;
  }

  clear(): void {
    this.cleared = true;
    this.local.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[string, V]> {
    if (!this.cleared) {
      for (const [key, value] of this.base.entries()) {
        const local = this.local.get(key);
        if (local === undefined) yield [key, value];
        else if (local.inPlace && local.value !== TOMBSTONE) yield [key, local.value];
      }
    }
    for (const [key, local] of this.local) {
      if (!local.inPlace && local.value !== TOMBSTONE) yield [key, local.value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }
}
