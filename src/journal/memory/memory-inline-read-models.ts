import { Envelope } from '../journal';
import { CacheState } from '../../domain';
import { CacheNameRow, DueExpiry, InlineReadModels, KeyPage, KeyPageRequest, KeyPageRow, KeyRow, NameRow, ReadModelRows, RepairedRows, applyToReadModels, repairRows } from '../inline-read-models';
import { EntityRef, decodeEntityId, entityIdOf } from '../keys';

const latin1 = (bytes: Buffer) => bytes.toString('latin1');
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The code point at `i` as its UTF-8 bytes order it (a lone surrogate is written as U+FFFD), and its width in code units. */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
  if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
  return 0xfffd;
}

/** `byBytes` without encoding either key: UTF-8 byte order is code point order. */
export function compareUtf8(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = codePointAt(a, i);
    const y = codePointAt(b, j);
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return (i < a.length ? 1 : 0) - (j < b.length ? 1 : 0);
}

/** The first index of `keys` (UTF-8 order) whose bytes are greater than `bytes` (or not less, with `inclusive`). */
function lowerBound(keys: readonly string[], bytes: Buffer, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(Buffer.from(keys[mid], 'utf8'), bytes);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The inline read models in maps, applied by the in-memory journal as it commits. */
export class MemoryInlineReadModels extends InlineReadModels implements ReadModelRows {
  private keys = new Map<string, Map<string, KeyRow>>();
  private names = new Map<string, { entityId: Buffer; row: NameRow }>();
  private totals = new Map<string, number>();
  private expiry = new Map<string, DueExpiry>();
  /**
   * Each cache's keys in UTF-8 order, sorted once and kept until a key is added or removed: a
   * console paging a cache of a million keys sorted them all (with a Buffer per key) for each page.
   */
  private sorted = new Map<string, string[]>();

  constructor(private readonly readLog: () => Iterable<Envelope>) {
    super();
  }

  apply({ ref, entityId, event }: Envelope): void {
    applyToReadModels(this, ref, entityId, event);
  }

  keyRow(entityId: Buffer, key: string): KeyRow | undefined {
    return this.keys.get(latin1(entityId))?.get(key);
  }

  keyRows(entityId: Buffer): Iterable<[string, KeyRow]> {
    return this.keys.get(latin1(entityId))?.entries() ?? [];
  }

  nameRow(entityId: Buffer): NameRow | undefined {
    return this.names.get(latin1(entityId))?.row;
  }

  putKey(entityId: Buffer, key: string, row: KeyRow): void {
    const id = latin1(entityId);
    let rows = this.keys.get(id);
    if (rows === undefined) this.keys.set(id, (rows = new Map()));
    if (!rows.has(key)) this.sorted.delete(id);
    rows.set(key, row);
  }

  delKey(entityId: Buffer, key: string): void {
    const id = latin1(entityId);
    const rows = this.keys.get(id);
    if (rows?.delete(key)) this.sorted.delete(id);
    if (rows?.size === 0) this.keys.delete(id);
  }

  putName(entityId: Buffer, row: NameRow): void {
    this.names.set(latin1(entityId), { entityId, row });
  }

  delName(entityId: Buffer): void {
    this.names.delete(latin1(entityId));
  }

  putExpiry(expiresAt: number, entityId: Buffer, key: string): void {
    this.expiry.set(JSON.stringify([expiresAt, latin1(entityId), key]), { ref: decodeEntityId(entityId).ref, key, expiresAt });
  }

  delExpiry(expiresAt: number, entityId: Buffer, key: string): void {
    this.expiry.delete(JSON.stringify([expiresAt, latin1(entityId), key]));
  }

  addOrgBytes(org: string, delta: number): void {
    const total = Math.max(0, (this.totals.get(org) ?? 0) + delta);
    if (total === 0) this.totals.delete(org);
    else this.totals.set(org, total);
  }

  async listKeys(ref: EntityRef, now: number): Promise<string[]> {
    const rows = this.keys.get(latin1(entityIdOf(ref))) ?? new Map<string, KeyRow>();
    return [...rows].filter(([, row]) => row.expiresAt === 0 || row.expiresAt > now).map(([key]) => key).sort(byBytes);
  }

  /** The same page as LevelDB's, walked from the cursor (or the prefix) in the cache's sorted keys. */
  async keyPage(ref: EntityRef, now: number, request: KeyPageRequest): Promise<KeyPage> {
    const id = latin1(entityIdOf(ref));
    const rows = this.keys.get(id);
    if (rows === undefined) return { rows: [] };
    let keys = this.sorted.get(id);
    if (keys === undefined) this.sorted.set(id, (keys = [...rows.keys()].sort(compareUtf8)));
    const prefix = request.prefix;
    let start = request.after === undefined ? 0 : lowerBound(keys, request.after, false);
    if (prefix !== undefined) start = Math.max(start, lowerBound(keys, prefix, true));
    const out: KeyPageRow[] = [];
    let examined = 0;
    for (let i = start; i < keys.length; i++) {
      const key = keys[i];
      const bytes = Buffer.from(key, 'utf8');
      // Keys with the prefix are one run in byte order: the first without it ends the page.
      if (prefix !== undefined && !bytes.subarray(0, prefix.length).equals(prefix)) break;
      const row = rows.get(key)!;
      examined++;
      if ((row.expiresAt === 0 || row.expiresAt > now) && request.accept(key)) out.push({ key, expiresAt: row.expiresAt, bytes: row.bytes });
      if (out.length >= request.limit || examined >= request.examine) return { rows: out, last: bytes };
    }
    return { rows: out };
  }

  async listCaches(org: string, includeDeleted = false): Promise<CacheNameRow[]> {
    return [...this.names.values()]
      .map(({ entityId, row }) => ({ ref: decodeEntityId(entityId).ref, row, entityId }))
      .filter(({ ref, row }) => ref.org === org && (includeDeleted || !row.deleted))
      .sort((a, b) => Buffer.compare(a.entityId, b.entityId))
      .map(({ ref, row }) => ({ cacheName: ref.name, description: row.description, deleted: row.deleted }));
  }

  async orgBytes(org: string): Promise<number> {
    return this.totals.get(org) ?? 0;
  }

  orgBytesNow(org: string): number {
    return this.totals.get(org) ?? 0;
  }

  async dueExpiries(until: number, limit: number): Promise<DueExpiry[]> {
    return [...this.expiry.values()].filter((e) => e.expiresAt <= until).sort((a, b) => a.expiresAt - b.expiresAt).slice(0, limit);
  }

  async isLive(ref: EntityRef): Promise<boolean> {
    const row = this.names.get(latin1(entityIdOf(ref)))?.row;
    return row !== undefined && !row.deleted;
  }

  override async cacheRow(ref: EntityRef): Promise<NameRow | undefined> {
    return this.names.get(latin1(entityIdOf(ref)))?.row;
  }

  /** Synchronous: no commit runs meanwhile. */
  async repairCache(ref: EntityRef, state: () => CacheState | undefined): Promise<RepairedRows | undefined> {
    const current = state();
    return current === undefined ? undefined : repairRows(this, ref, entityIdOf(ref), current);
  }

  async rebuild(): Promise<void> {
    this.keys = new Map();
    this.sorted = new Map();
    this.names = new Map();
    this.totals = new Map();
    this.expiry = new Map();
    for (const envelope of this.readLog()) this.apply(envelope);
  }

  async dump(): Promise<string[]> {
    const out: string[] = [];
    for (const [id, rows] of this.keys) for (const [key, row] of rows) out.push(`keys:${JSON.stringify([id, key, row])}`);
    for (const [id, { row }] of this.names) out.push(`names:${JSON.stringify([id, row])}`);
    for (const [org, total] of this.totals) out.push(`org-bytes:${org}=${total}`);
    for (const key of this.expiry.keys()) out.push(`expiry:${key}`);
    return out.sort();
  }
}
