import { Logger } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { Envelope } from '../journal';
import { LevelDbInlineReadModels, RawOp } from '../leveldb/leveldb-inline-read-models';
import { Storage } from '../leveldb/storage';
import { readUint64BE, uint64BE } from '../keys';
import { NatsJournal } from './nats-journal';

const APPLIED_KEY = Buffer.from('nats-applied-offset');
const STREAM_KEY = Buffer.from('nats-stream');

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

  /** Catches the rows up from the stored offset (rebuilding them for another stream), then follows the stream. */
  async start(streamId: string): Promise<void> {
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
  }

  private async apply(batch: readonly Envelope[]): Promise<void> {
    const fresh = batch.filter((e) => e.offset > this.applied);
    if (fresh.length === 0) return;
    const ops: RawOp[] = [];
    const written = await this.opsFor(fresh, ops);
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
    this.following?.unsubscribe();
    this.following = undefined;
    await this.queue;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }
}
