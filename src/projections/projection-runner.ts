import { Logger } from '@nestjs/common';
import { Subject, Subscription, concatMap } from 'rxjs';
import { subscribeContained } from '../journal/contained-subscriber';
import { Envelope, Journal } from '../journal/journal';
import { readUint64BE, uint64BE } from '../journal/keys';
import { OFFSETS_SPACE, ReadModelOp, ReadModelStore } from '../journal/read-model-store';

/** How long live events gather before a projection run writes them. */
const LIVE_GATHER_MS = 5;

/**
 * The read-model writes of one run of a projection. `checkpoint()` writes what has been
 * collected so far together with the offset of the last envelope fully applied, in one
 * atomic write: rows and offset never disagree.
 */
export class ProjectionBatch {
  private ops: ReadModelOp[] = [];
  appliedOffset: number;

  constructor(
    private readonly store: ReadModelStore,
    private readonly space: string,
    private readonly name: Buffer,
    startOffset: number,
  ) {
    this.appliedOffset = startOffset;
  }

  put(key: Buffer, value: Buffer): void {
    this.ops.push({ type: 'put', space: this.space, key, value });
  }

  del(key: Buffer): void {
    this.ops.push({ type: 'del', space: this.space, key });
  }

  async checkpoint(): Promise<void> {
    const ops = this.ops;
    this.ops = [];
    ops.push({ type: 'put', space: OFFSETS_SPACE, key: this.name, value: uint64BE(this.appliedOffset) });
    await this.store.write(ops);
  }
}

export class ProjectionUnavailableError extends Error {
  readonly code = 'PROJECTION_UNAVAILABLE';
  constructor(name: string) {
    super(`the ${name} read model is not being maintained (the service is stopping)`);
  }
}

/** A read model maintained from committed events. */
export interface Projection {
  readonly name: string;
  /** The read-model space of its rows. */
  readonly space: string;
  apply(envelope: Envelope, batch: ProjectionBatch): void | Promise<void>;
}

/**
 * Runs a projection exactly once per event: on start it reads the log from its stored
 * offset at its own pace, then follows the journal (`follow()`: the hand-over loses and
 * repeats nothing); each run stores its rows and offset together. Runs are serialized
 * with `concatMap`, so events are applied in offset order.
 */
export class ProjectionRunner {
  private readonly logger: Logger;
  private readonly jobs = new Subject<() => Promise<void>>();
  private subscriptions: Subscription[] = [];
  private following: Subscription | undefined;
  private offset = 0;
  private live: Array<readonly Envelope[]> = [];
  private liveQueued = false;
  private waiters: Array<{ offset: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private stopped = false;
  private readonly nameKey: Buffer;

  constructor(
    private readonly store: ReadModelStore,
    private readonly journal: Journal,
    readonly projection: Projection,
  ) {
    this.logger = new Logger(`Projection:${projection.name}`);
    this.nameKey = Buffer.from(projection.name);
  }

  get appliedOffset(): number {
    return this.offset;
  }

  /** Catches up from the stored offset, then follows live events. */
  async start(): Promise<void> {
    this.stopped = false;
    this.offset = await this.storedOffset();
    // Jobs contain their errors (guard); should one escape, it is logged, never the process's.
    this.subscriptions.push(subscribeContained(this.jobs.pipe(concatMap((job) => job())), { name: `projection ${this.projection.name} (runs)`, next: () => undefined }, this.logger));
    await new Promise<void>((resolve) => this.jobs.next(() => this.guard(() => this.catchUp()).then(resolve)));
  }

  /**
   * Live envelopes wait here while a run is writing; the next run takes all of them, so
   * under load one write carries many group commits (not one each).
   */
  private enqueueLive(envelopes: readonly Envelope[]): void {
    this.live.push(envelopes);
    if (this.liveQueued) return;
    this.liveQueued = true;
    // A short wait gathers the group commits of the next few milliseconds into this run.
    setTimeout(() => {
      this.jobs.next(() => {
        this.liveQueued = false;
        const all = this.live.length === 1 ? this.live[0] : this.live.flat();
        this.live = [];
        return this.guard(() => this.run(all));
      });
    }, LIVE_GATHER_MS);
  }

  /** Stops following the journal; whoever still waits for an offset is told it will not come. */
  stop(): void {
    this.following?.unsubscribe();
    this.following = undefined;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.stopped = true;
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) waiter.reject(new ProjectionUnavailableError(this.projection.name));
  }

  /** Resolves once every event up to `offset` is reflected in the read model. */
  waitFor(offset: number): Promise<void> {
    if (offset <= this.offset) return Promise.resolve();
    if (this.stopped) return Promise.reject(new ProjectionUnavailableError(this.projection.name));
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  /** Waits for `offset` at most `ms`; true when it was reached. */
  async reached(offset: number, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      // A stop that rejects the waiter after the timeout won must not be an unhandled rejection.
      return await Promise.race([this.waitFor(offset).then(() => true, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `job` between two runs of the projection: nothing is applied while it runs, and
   * `appliedOffset` is the offset its rows reflect. For a per-cache repair of rows.
   */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new ProjectionUnavailableError(this.projection.name));
    return new Promise<T>((resolve, reject) => this.jobs.next(() => job().then(resolve, reject)));
  }

  /**
   * Drops every row and offset and rebuilds from the start of the journal. Readers see an
   * empty or partial read model meanwhile: an operator's offline action, never a tenant's task.
   */
  async rebuild(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.jobs.next(async () => {
        try {
          this.following?.unsubscribe();
          this.following = undefined;
          this.live = [];
          await this.store.clear(this.projection.space);
          await this.store.write([{ type: 'del', space: OFFSETS_SPACE, key: this.nameKey }]);
          this.offset = 0;
          await this.catchUp();
          resolve();
        } catch (error) {
          reject(error);
        }
      }),
    );
  }

  /** Reads the log from the applied offset at this runner's pace, then follows from where it got. */
  private async catchUp(): Promise<void> {
    this.following?.unsubscribe();
    this.following = undefined;
    for await (const chunk of this.journal.read(this.offset)) await this.run(chunk);
    if (this.stopped) return;
    // A failed live stream is a failed run: logged, and caught up again from the stored offset.
    this.following = subscribeContained(
      this.journal.follow(this.offset),
      {
        name: `projection ${this.projection.name}`,
        next: (envelopes) => this.enqueueLive(envelopes),
        ended: (error) => this.jobs.next(() => this.guard(() => Promise.reject(error))),
      },
      this.logger,
    );
  }

  private async run(envelopes: readonly Envelope[]): Promise<void> {
    const batch = new ProjectionBatch(this.store, this.projection.space, this.nameKey, this.offset);
    for (const envelope of envelopes) {
      if (envelope.offset <= batch.appliedOffset) continue;
      await this.projection.apply(envelope, batch);
      batch.appliedOffset = envelope.offset;
    }
    if (batch.appliedOffset === this.offset) return;
    await batch.checkpoint();
    this.advance(batch.appliedOffset);
  }

  private advance(offset: number): void {
    this.offset = offset;
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.offset <= offset) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  private async storedOffset(): Promise<number> {
    const stored = await this.store.get(OFFSETS_SPACE, this.nameKey);
    return stored ? readUint64BE(stored, 0) : 0;
  }

  /** A failed run is logged and retried from the stored offset; the stream keeps going. */
  private async guard(job: () => Promise<void>): Promise<void> {
    try {
      await job();
    } catch (error) {
      this.logger.error(`run failed at offset ${this.offset}: ${(error as Error).message}; catching up again`);
      this.store.report(error); // a failed read of the journal heals like a failed write
      this.following?.unsubscribe();
      this.following = undefined;
      this.live = [];
      // The stored offset is where the rows are; unreadable (storage still down): the last
      // one this runner stored, never 0 (which would apply every event again).
      this.offset = await this.storedOffset().catch(() => this.offset);
      setTimeout(() => this.jobs.next(() => this.guard(() => this.catchUp())), 1000).unref();
    }
  }
}
