import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { KV, KvWatchEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';
import { Subscription } from 'rxjs';
import { CacheEvent } from '../../domain';
import { DropAccounting } from '../inline-read-models';
import { Envelope } from '../journal';
import { LevelDbInlineReadModels, RawOp, WeighedEvent } from '../leveldb/leveldb-inline-read-models';
import { Storage } from '../leveldb/storage';
import { EntityRef, encodeEntityId, readUint64BE, uint64BE } from '../keys';
import { endOffset } from './grouped-messages';
import { NatsJournal } from './nats-journal';
import { decodeToken } from './subjects';

const APPLIED_KEY = Buffer.from('nats-applied-offset');
const STREAM_KEY = Buffer.from('nats-stream');

/** Room counted for each event's subject share, headers, framing and the store's own record. */
const EVENT_OVERHEAD_BYTES = 64;
const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * What one event weighs in the journal-bytes rows on NATS: its value, key, description,
 * author and device, its subject (the cache's id, base64url) and a fixed overhead. A function
 * of the event alone, so every node counts the same, and compaction can weigh what it drops
 * (a grouped message's subject and headers are counted once per event: a little above what
 * the stream holds, never below).
 */
export function natsEventBytes(entityId: Buffer, event: CacheEvent): number {
  let bytes = EVENT_OVERHEAD_BYTES + Math.ceil((entityId.length * 4) / 3) + utf8(event.by) + (event.device === null ? 0 : utf8(event.device));
  switch (event.type) {
    case 'Set':
      bytes += utf8(event.key) + event.value.byteLength + 8;
      break;
    case 'Deleted':
    case 'Expired':
    case 'Evicted':
      bytes += utf8(event.key);
      break;
    case 'ExpiryChanged':
      bytes += utf8(event.key) + 8;
      break;
    case 'Created':
    case 'DescriptionChanged':
      bytes += utf8(event.description);
      break;
    case 'SettingsChanged':
      bytes += 32;
      break;
    default:
      break;
  }
  return bytes;
}

/** Row of the journal-bytes space: what compactions of one cache have dropped so far, as this node has applied it. */
const droppedBytesKey = (entityId: Buffer) => Buffer.concat([Buffer.from('f'), entityId]);

/** How long one node's claim to compact a cache lasts without being renewed (a node that died frees it by then). */
const CLAIM_TTL_MS = 5 * 60_000;

/** What the read models share with other nodes through NATS (the backend's connection). */
export interface NatsSharedRows {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly replicas: number;
}

/** A cache's dropped-bytes entry in the `<stream>-dropped-bytes` bucket. */
interface DroppedEntry {
  /** Bytes every compaction of the cache has dropped, in all. */
  readonly bytes: number;
  /** The stream's end when it was written: a node subtracts it once its rows are there. */
  readonly through: number;
}

/**
 * The inline read models (key listing, cache names, org byte totals, expiry index) of a
 * node on the NATS journal. The rows are the LevelDB journal's, kept in this node's local
 * LevelDB, but they cannot be written in the events' own write (that write is a publish to
 * JetStream): every node applies the stream in order, storing the offset it applied in the
 * same LevelDB batch as the rows (exactly-once), and an append resolves only once this node
 * has applied it, so a writer reads its own rows. Other nodes' rows follow within the
 * stream's delivery lag.
 */
export class NatsInlineReadModels extends LevelDbInlineReadModels {
  private readonly log = new Logger('NatsReadModels');
  private applied = 0;
  private readMax = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private following: Subscription | undefined;
  private waiters: Array<{ offset: number; resolve: () => void }> = [];
  private readonly nodeId = randomUUID();
  private droppedKv: KV | undefined;
  private claims: KV | undefined;
  private jsm: JetStreamManager | undefined;
  private stream = '';
  private droppedWatch: QueuedIterator<KvWatchEntry> | undefined;
  private droppedWaiters: Array<{ name: string; bytes: number; resolve: () => void }> = [];
  private stopped = false;

  constructor(
    private readonly store: Storage,
    private readonly natsJournal: NatsJournal,
  ) {
    super(
      store,
      (after) => this.readTracked(after),
      (fn) => this.exclusiveRun(fn),
    );
  }

  /** The offset up to which this node's rows are applied. */
  get appliedOffset(): number {
    return this.applied;
  }

  private async *readTracked(after: number): AsyncGenerator<readonly Envelope[]> {
    for await (const chunk of this.natsJournal.read(after)) {
      if (chunk.length > 0) this.readMax = Math.max(this.readMax, chunk[chunk.length - 1].offset);
      yield chunk;
    }
  }

  private exclusiveRun<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      this.readMax = this.applied;
      const result = await fn();
      // A rebuild read the log up to readMax: batches up to there are in the rows already.
      if (this.readMax > this.applied) await this.markApplied(this.readMax);
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Catches the rows up from the stored offset (rebuilding them for another stream), then
   * follows the stream. With `shared`, journal bytes are counted as on the embedded journal:
   * what compaction drops is told to every node through a KV bucket, and a KV claim keeps a
   * cache's compaction to one node at a time.
   */
  async start(streamId: string, shared?: NatsSharedRows): Promise<void> {
    if (shared !== undefined) await this.openShared(shared);
    const known = await this.store.meta.get(STREAM_KEY);
    if (known !== undefined && known.toString() !== streamId) {
      this.log.warn('this data directory holds read models of another stream: rebuilding them');
      await this.store.meta.del(Buffer.from('inline-read-models'));
      await this.store.meta.del(APPLIED_KEY);
    }
    await this.store.meta.put(STREAM_KEY, Buffer.from(streamId));
    const stored = await this.store.meta.get(APPLIED_KEY);
    this.applied = stored === undefined ? 0 : readUint64BE(stored, 0);
    this.readMax = this.applied;
    await this.open(); // rebuilds from the stream when the rows are not there yet
    if (this.readMax > this.applied) await this.markApplied(this.readMax);
    this.following = this.natsJournal.follow(this.applied).subscribe({
      next: (batch) => {
        this.queue = this.queue.then(() => this.apply(batch)).catch((error) => this.log.error(`applying the stream to read models failed: ${(error as Error).message}`));
      },
      error: (error) => this.log.error(`following the stream for read models stopped: ${(error as Error).message}`),
    });
    if (this.droppedKv !== undefined) await this.watchDropped(this.droppedKv);
  }

  private async openShared(shared: NatsSharedRows): Promise<void> {
    const kvm = new Kvm(shared.nc);
    const bucket = async (name: string, ttl?: number): Promise<KV> => {
      try {
        return await kvm.create(name, { history: 1, replicas: shared.replicas, ...(ttl === undefined ? {} : { ttl }) });
      } catch {
        return kvm.open(name); // made by another node with other settings: use it as it is
      }
    };
    this.droppedKv = await bucket(`${shared.stream}-dropped-bytes`);
    this.claims = await bucket(`${shared.stream}-compacting`, CLAIM_TTL_MS);
    this.jsm = await jetstreamManager(shared.nc);
    this.stream = shared.stream;
  }

  private refOfKey(key: string): EntityRef {
    const tokens = key.split('.');
    if (tokens.length !== 2) throw new RangeError(`not a cache key: ${key.slice(0, 80)}`);
    return { org: decodeToken(tokens[0]), name: decodeToken(tokens[1]) };
  }

  /** Every cache's dropped bytes as the bucket has them now (read before a count from the stream: the stream then no longer holds them). */
  protected override async journalBytesBaseline(): Promise<Array<{ key: Buffer; value: number }>> {
    const kv = this.droppedKv;
    if (kv === undefined) return [];
    const out: Array<{ key: Buffer; value: number }> = [];
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') continue;
      try {
        out.push({ key: droppedBytesKey(encodeEntityId(this.refOfKey(key))), value: (entry.json() as DroppedEntry).bytes });
      } catch (error) {
        this.log.warn(`skipping dropped-bytes entry ${key.slice(0, 80)}: ${(error as Error).message}`);
      }
    }
    return out;
  }

  /** The stream's events up to the offset the rows are at, weighed as `apply` weighs them. */
  protected override async *journalWeights(): AsyncGenerator<WeighedEvent[]> {
    const limit = this.readMax;
    for await (const chunk of this.natsJournal.read(0)) {
      const out: WeighedEvent[] = [];
      for (const { ref, entityId, event, offset } of chunk) if (offset <= limit) out.push({ ref, entityId, bytes: natsEventBytes(entityId, event) });
      if (out.length > 0) yield out;
      if (chunk.length > 0 && chunk[chunk.length - 1].offset >= limit) return;
    }
  }

  /** Follows the dropped-bytes bucket (every cache's last entry, then updates). */
  private async watchDropped(kv: KV): Promise<void> {
    const watch = await kv.watch();
    this.droppedWatch = watch;
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation !== 'PUT') continue;
        let ref: EntityRef;
        let dropped: DroppedEntry;
        try {
          ref = this.refOfKey(entry.key);
          dropped = entry.json() as DroppedEntry;
        } catch (error) {
          this.log.warn(`skipping dropped-bytes entry ${entry.key.slice(0, 80)}: ${(error as Error).message}`);
          continue;
        }
        void this.subtractWhenThere(ref, dropped);
      }
    })().catch((error) => this.log.error(`following dropped bytes stopped: ${(error as Error).message}`));
  }

  /** Once this node's rows hold the events a compaction dropped (the stream's end then), they lose their weight. */
  private async subtractWhenThere(ref: EntityRef, dropped: DroppedEntry): Promise<void> {
    while (!this.stopped && !(await this.reached(dropped.through, 60_000))) this.log.warn(`read models still behind offset ${dropped.through}: dropped bytes of a compaction wait`);
    if (this.stopped) return;
    this.queue = this.queue.then(() => this.subtractDropped(ref, dropped.bytes)).catch((error) => this.log.error(`subtracting dropped bytes failed: ${(error as Error).message}`));
  }

  /** In the apply queue: the cache's rows lose what compactions dropped since this node last subtracted (entries only grow, so an older one is a no-op). */
  private async subtractDropped(ref: EntityRef, total: number): Promise<void> {
    if (this.stopped) return; // queued after stop(): the store is closing
    const entityId = encodeEntityId(ref);
    const key = droppedBytesKey(entityId);
    const delta = total - (await this.diskRow(key));
    if (delta > 0) {
      const ops: RawOp[] = [];
      const written = await this.diskBytesOps(new Map([['', { ref, entityId, bytes: -delta }]]), ops);
      ops.push({ type: 'put', key: Buffer.concat([Buffer.from(this.store.journalBytes.prefix, 'utf8'), key]), value: uint64BE(total) });
      await this.store.db.batch(ops as never);
      written();
      this.diskBytes.set(key.toString('latin1'), total);
    }
    const name = key.toString('latin1');
    const done = this.diskBytes.get(name) ?? 0;
    this.droppedWaiters = this.droppedWaiters.filter((waiter) => (waiter.name === name && waiter.bytes <= done ? (waiter.resolve(), false) : true));
  }

  override dropAccounting(): DropAccounting | undefined {
    if (this.droppedKv === undefined) return undefined;
    return {
      weigh: (ref, event) => natsEventBytes(encodeEntityId(ref), event),
      dropped: (ref, bytes) => this.announceDropped(ref, bytes),
    };
  }

  /** Adds `bytes` to the cache's dropped-bytes entry (compare-and-set), then waits until this node's rows have subtracted it. */
  private async announceDropped(ref: EntityRef, bytes: number): Promise<void> {
    const kv = this.droppedKv!;
    const key = this.natsJournal.subjects.kvKey(ref);
    const through = endOffset((await this.jsm!.streams.info(this.stream)).state.last_seq);
    let total = 0;
    for (let attempt = 1; ; attempt++) {
      const entry = await kv.get(key);
      const before = entry === null || entry.operation !== 'PUT' ? 0 : (entry.json() as DroppedEntry).bytes;
      total = before + bytes;
      const value = JSON.stringify({ bytes: total, through } satisfies DroppedEntry);
      try {
        if (entry === null) await kv.create(key, value);
        else await kv.update(key, value, entry.revision);
        break;
      } catch (error) {
        if (attempt >= 20) throw error; // another node's entry came in between: read it again
      }
    }
    const name = droppedBytesKey(encodeEntityId(ref)).toString('latin1');
    if ((this.diskBytes.get(name) ?? 0) >= total) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.droppedWaiters = this.droppedWaiters.filter((w) => w !== waiter);
        this.log.warn(`this node has not applied the bytes a compaction of ${JSON.stringify(ref)} dropped yet`);
        resolve();
      }, 30_000);
      const waiter = {
        name,
        bytes: total,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.droppedWaiters.push(waiter);
    });
  }

  /** One node at a time compacts a cache: a create-if-absent entry in `<stream>-compacting`, renewed while held, gone after CLAIM_TTL_MS if its node dies. */
  override async claimCompaction(ref: EntityRef): Promise<(() => Promise<void>) | undefined> {
    const claims = this.claims;
    if (claims === undefined) return super.claimCompaction(ref);
    const key = this.natsJournal.subjects.kvKey(ref);
    try {
      await claims.create(key, this.nodeId);
    } catch {
      return undefined; // another node holds it
    }
    const renew = setInterval(() => void claims.put(key, this.nodeId).catch(() => undefined), CLAIM_TTL_MS / 3);
    renew.unref();
    return async () => {
      clearInterval(renew);
      await claims.delete(key).catch(() => undefined);
    };
  }

  private async apply(batch: readonly Envelope[]): Promise<void> {
    const fresh = batch.filter((e) => e.offset > this.applied);
    if (fresh.length === 0) return;
    const ops: RawOp[] = [];
    const written = await this.opsFor(
      fresh,
      ops,
      fresh.map(({ entityId, event }) => natsEventBytes(entityId, event)),
    );
    const offset = fresh[fresh.length - 1].offset;
    ops.push({ type: 'put', key: Buffer.concat([Buffer.from(this.store.meta.prefix, 'utf8'), APPLIED_KEY]), value: uint64BE(offset) });
    await this.store.db.batch(ops as never);
    written();
    this.advance(offset);
  }

  private async markApplied(offset: number): Promise<void> {
    await this.store.meta.put(APPLIED_KEY, uint64BE(offset));
    this.advance(offset);
  }

  private advance(offset: number): void {
    this.applied = Math.max(this.applied, offset);
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) (waiter.offset <= this.applied ? waiter.resolve() : still.push(waiter));
    this.waiters = still;
  }

  override whenApplied(offset: number, timeoutMs: number): Promise<boolean> {
    return this.reached(offset, timeoutMs);
  }

  /** Resolves once the rows include `offset`, or after `timeoutMs` (false). */
  reached(offset: number, timeoutMs: number): Promise<boolean> {
    if (offset <= this.applied) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.droppedWatch?.stop();
    this.droppedWatch = undefined;
    for (const waiter of this.droppedWaiters.splice(0)) waiter.resolve();
    this.following?.unsubscribe();
    this.following = undefined;
    await this.queue;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }
}
