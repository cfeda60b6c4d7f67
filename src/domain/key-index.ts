const EMPTY = -1;
const MIN_CAPACITY = 16;
/**
 * A probe this long means keys collide far beyond chance (at most half full, a run of 128
 * happens about never): the table is rebuilt with a new seed, and after REBUILDS_BEFORE_MAP
 * such rebuilds the index becomes a `Map`, whose string hashes no tenant can aim at.
 */
const MAX_PROBES = 128;
const REBUILDS_BEFORE_MAP = 2;
const PLACED = 0;
const TOO_FAR = 1;
const PRESENT = 2;

/**
 * Key → slot for `CompactEntryMap`: open addressing with linear probing over one Int32Array of
 * slots (at most half full), the keys themselves read from the owner's slot → key array.
 * Against a `Map` it builds a million keys in a tenth of the time (no rehash of growing
 * backing stores in the V8 heap, one typed array instead) and costs 8 bytes per key instead
 * of about 30. Hashes are seeded per index, so which keys collide cannot be known in advance;
 * keys that collide anyway (whatever the seed) only make the index a `Map` again.
 */
export class KeyIndex {
  private table: Int32Array;
  private mask: number;
  private count = 0;
  private seed = randomSeed();
  private rebuilds = 0;
  private map: Map<string, number> | undefined;

  /**
   * @param keyOf the key of every slot in the index (the owner's array, read, never written)
   * @param expected keys about to be added (sizes the table once)
   * @param hash tests pass one that collides on purpose
   */
  constructor(
    private readonly keyOf: ReadonlyArray<string | undefined>,
    expected = 0,
    private readonly hash: (key: string, seed: number) => number = hashOf,
  ) {
    let capacity = MIN_CAPACITY;
    while (capacity < 2 * expected) capacity *= 2;
    this.table = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.map ? this.map.size : this.count;
  }

  /** The slot of `key`, or -1. */
  slotOf(key: string): number {
    if (this.map) return this.map.get(key) ?? EMPTY;
    let bucket = this.hash(key, this.seed) & this.mask;
    for (let probes = 0; ; probes++) {
      const slot = this.table[bucket];
      if (slot === EMPTY) return EMPTY;
      if (this.keyOf[slot] === key) return slot;
      // Every key is within MAX_PROBES of its home bucket (`place` sees to it).
      if (probes === MAX_PROBES) return EMPTY;
      bucket = (bucket + 1) & this.mask;
    }
  }

  /** Adds `key` at `slot` (`keyOf[slot]` must already be `key`); a RangeError if `key` is there already. */
  add(key: string, slot: number): void {
    if (this.map) {
      if (this.map.has(key)) throw new RangeError('a key is there twice');
      this.map.set(key, slot);
      return;
    }
    if (2 * (this.count + 1) > this.table.length) this.resize(this.table.length * 2);
    const placed = this.place(key, slot);
    if (placed === PRESENT) throw new RangeError('a key is there twice');
    if (placed === TOO_FAR) {
      this.rebuild();
      this.add(key, slot);
      return;
    }
    this.count++;
  }

  /** Removes `key`; its slot, or -1. Call before clearing `keyOf[slot]`. */
  remove(key: string): number {
    if (this.map) {
      const slot = this.map.get(key) ?? EMPTY;
      this.map.delete(key);
      return slot;
    }
    const mask = this.mask;
    let bucket = this.hash(key, this.seed) & mask;
    for (let probes = 0; ; probes++) {
      const slot = this.table[bucket];
      if (slot === EMPTY || probes > MAX_PROBES) return EMPTY;
      if (this.keyOf[slot] === key) break;
      bucket = (bucket + 1) & mask;
    }
    const removed = this.table[bucket];
    // Backward shift: move later members of the run into the hole when their home allows it.
    let hole = bucket;
    for (let next = (hole + 1) & mask; this.table[next] !== EMPTY; next = (next + 1) & mask) {
      const home = this.hash(this.keyOf[this.table[next]]!, this.seed) & mask;
      // `next` may move to `hole` unless its home lies cyclically in (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        this.table[hole] = this.table[next];
        hole = next;
      }
    }
    this.table[hole] = EMPTY;
    this.count--;
    return removed;
  }

  /** Places without counting. */
  private place(key: string, slot: number): typeof PLACED | typeof TOO_FAR | typeof PRESENT {
    let bucket = this.hash(key, this.seed) & this.mask;
    for (let probes = 0; ; probes++) {
      const there = this.table[bucket];
      if (there === EMPTY) break;
      if (this.keyOf[there] === key) return PRESENT;
      if (probes === MAX_PROBES) return TOO_FAR;
      bucket = (bucket + 1) & this.mask;
    }
    this.table[bucket] = slot;
    return PLACED;
  }

  private resize(capacity: number): void {
    const old = this.table;
    this.table = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let i = 0; i < old.length; i++) {
      const slot = old[i];
      if (slot !== EMPTY && this.place(this.keyOf[slot]!, slot) !== PLACED) {
        this.table = old;
        this.mask = old.length - 1;
        this.rebuild();
        if (!this.map) this.resize(capacity);
        return;
      }
    }
  }

  /** Keys collide far beyond chance: a new seed, or a `Map` once that has not helped. */
  private rebuild(): void {
    const slots: number[] = [];
    for (let i = 0; i < this.table.length; i++) if (this.table[i] !== EMPTY) slots.push(this.table[i]);
    while (++this.rebuilds <= REBUILDS_BEFORE_MAP) {
      this.seed = randomSeed();
      this.table.fill(EMPTY);
      if (slots.every((slot) => this.place(this.keyOf[slot]!, slot) === PLACED)) return;
    }
    this.map = new Map(slots.map((slot) => [this.keyOf[slot]!, slot]));
    this.table = new Int32Array(0);
  }

  /** For tests: whether keys have made it fall back to a Map. */
  get isMap(): boolean {
    return this.map !== undefined;
  }
}

const randomSeed = () => (Math.random() * 0x100000000) >>> 0;

/**
 * Read once: inside a `vm` context (jest runs every test file in one) each `Math.imul` looks up
 * the global `Math` through the context's interceptors, which made hashing ~40x slower there
 * (1M keys: 2.2-2.6 s against 40-57 ms) and a million-key fill in a test 2-4x slower.
 */
const imul = Math.imul;

/** A seeded 32-bit hash of the key's UTF-16 code units (multiply-xorshift rounds, then a final mix). */
export function hashOf(key: string, seed: number): number {
  let h = seed ^ key.length;
  for (let i = 0; i < key.length; i++) {
    h = imul(h ^ key.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
