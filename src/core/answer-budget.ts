import { Global, Module, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { LimitsConfig } from '../config/limits';

/** What the answer budget holds connections and orgs to (docs/security.md). */
export interface AnswerBudgetLimits {
  /** ANSWER_QUEUE_CONNECTION_BYTES: unread answer bytes beyond which a connection produces no more answers. */
  readonly connectionBytes: number;
  /** ANSWER_QUEUE_ORG_BYTES: unread answer bytes of all an org's connections together. */
  readonly orgBytes: number;
  /** ANSWER_DRAIN_TIMEOUT_SECONDS (ms): how long a connection over a share may go without its client reading. */
  readonly drainTimeoutMs: number;
}

/** What a listener tells the budget about one of its connections. */
export interface AnswerQueueHooks {
  /** Ends the connection: its client read none of its answers for too long while over a share. */
  drop(): void;
  /** There may be room again (the org's total fell below its share): a connection that waited may go on. */
  room?(): void;
  /** Bytes its transport still holds (socket.writableLength): lets the budget see a large answer being read. */
  pending?(): number;
  /**
   * Bytes its transport has handed to the kernel so far (socket.bytesWritten less
   * socket.writableLength): only grows, so any read by the client is seen as progress, also
   * while a streamed answer keeps refilling what the transport holds (`pending` goes up and
   * down then, and a sweep could see no fall in the drain timeout and drop a reading client).
   */
  written?(): number;
}

/**
 * Bytes of answers handed to sockets whose clients have not taken them yet, per connection and
 * per org. A client that never reads keeps its answers in the process's memory: twenty sockets
 * asking for a 27 MiB answer each took RSS from 107 MB to 1.47 GB. Transport-free: a listener
 * opens one queue per connection, charges each answer when it hands it to the socket and gives
 * it back when the socket has written it out (a write's callback, the response's finish, the
 * close). It asks the queue whether it may produce the next answer: not while the connection
 * holds ANSWER_QUEUE_CONNECTION_BYTES, nor while the org's connections hold
 * ANSWER_QUEUE_ORG_BYTES. A connection holding answers while over either share whose client
 * reads nothing for ANSWER_DRAIN_TIMEOUT_SECONDS is dropped, so what it holds is freed.
 */
export class AnswerBudget {
  private readonly byOrg = new Map<string, number>();
  /** Bytes reserved per org by answers being measured or built, not yet handed to a socket. */
  private readonly reservedByOrg = new Map<string, number>();
  private readonly queues = new Set<AnswerQueue>();
  private held = 0;
  private reservedBytes = 0;
  private sweeper: NodeJS.Timeout | undefined;
  /** Connections dropped for not reading (for metrics and tests). */
  dropped = 0;
  /** Answers refused because the org's share was spent (for metrics and tests), however late. */
  refused = 0;
  /** Of those, answers built in full and only then replaced by the refusal (work thrown away; routes that reserve avoid it). */
  refusedAfterBuilt = 0;
  /** Answers built under a granted reservation of more than SMALL_ANSWER and handed to their socket (for metrics and tests). */
  admitted = 0;
  /** The most bytes held at once since the start (for metrics and tests). */
  peak = 0;

  constructor(readonly limits: AnswerBudgetLimits) {}

  /** Bytes held for every connection together. */
  get total(): number {
    return this.held;
  }

  /** Bytes held for the connections of `org`. */
  orgHeld(org: string): number {
    return this.byOrg.get(org) ?? 0;
  }

  /** Bytes reserved by answers being built, every org together. */
  get reserved(): number {
    return this.reservedBytes;
  }

  /** Bytes reserved by the org's answers being built (not yet handed to a socket). */
  orgReserved(org: string): number {
    return this.reservedByOrg.get(org) ?? 0;
  }

  /** What counts against the org's share: bytes its sockets hold plus bytes its answers in the making reserved. */
  orgCommitted(org: string): number {
    return this.orgHeld(org) + this.orgReserved(org);
  }

  /** The org's connections hold (or are building) their share: none of them produces another answer until some is read. */
  orgFull(org: string | undefined): boolean {
    return org !== undefined && this.orgCommitted(org) >= this.limits.orgBytes;
  }

  /**
   * An answer of `bytes` for `org` would take the org past its share (a small one always passes:
   * it is the refusal's size; so does one larger than the share while the org holds nothing: it is the last).
   */
  wouldOverflow(org: string | undefined, bytes: number): boolean {
    if (org === undefined || bytes <= SMALL_ANSWER) return false;
    const committed = this.orgCommitted(org);
    return committed > 0 && committed + bytes > this.limits.orgBytes;
  }

  /**
   * A reservation for one answer of `org`, taken while the answer's size is counted and before
   * it is encoded: producers of one org running at the same moment see each other's reservations,
   * so together they cannot build more than the org's share, and the ones beyond it are refused
   * before their big allocation rather than after it. Converted into the connection's charge when
   * the answer is handed to the socket (AnswerQueue.charge), or released if it never is.
   */
  reserve(org: string | undefined): AnswerReservation {
    return new AnswerReservation(this, org);
  }

  /** @internal A reservation of `org` changed by `delta`. */
  moveReserved(org: string, delta: number): void {
    const before = this.orgCommitted(org);
    this.reservedBytes += delta;
    const after = this.orgReserved(org) + delta;
    if (after <= 0) this.reservedByOrg.delete(org);
    else this.reservedByOrg.set(org, after);
    if (delta < 0 && before >= this.limits.orgBytes && before + delta < this.limits.orgBytes) this.wake(org);
  }

  /** One connection's queue of answers. */
  open(hooks: AnswerQueueHooks): AnswerQueue {
    const queue = new AnswerQueue(this, hooks);
    this.queues.add(queue);
    return queue;
  }

  /** @internal A queue's bytes for `org` changed by `delta`. */
  move(org: string | undefined, delta: number): void {
    this.held += delta;
    if (this.held > this.peak) this.peak = this.held;
    if (org !== undefined) {
      const before = this.orgCommitted(org);
      const after = this.orgHeld(org) + delta;
      if (after <= 0) this.byOrg.delete(org);
      else this.byOrg.set(org, after);
      if (delta < 0 && before >= this.limits.orgBytes && before + delta < this.limits.orgBytes) this.wake(org);
    }
    if (this.held > 0) this.startSweeping();
  }

  /** @internal */
  forget(queue: AnswerQueue): void {
    this.queues.delete(queue);
  }

  private wake(org: string): void {
    for (const queue of [...this.queues]) if (queue.waiting === org) queue.wakeUp();
  }

  private startSweeping(): void {
    if (this.sweeper !== undefined) return;
    const every = Math.max(50, Math.min(1000, Math.floor(this.limits.drainTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /** Drops the connections over a share that made no progress for the drain timeout. */
  sweep(now = performance.now()): void {
    for (const queue of [...this.queues]) {
      if (queue.bytes === 0) continue;
      queue.notice(now);
      const over = queue.bytes > this.limits.connectionBytes || this.orgFull(queue.org);
      if (over && now - queue.lastProgress >= this.limits.drainTimeoutMs) {
        this.dropped++;
        queue.close();
        queue.hooks.drop();
      }
    }
    if (this.held === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  stop(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** Answers this small always pass the org's share (an error, a status): refusing them would cost as much as sending them. */
export const SMALL_ANSWER = 4 * 1024;

/**
 * The bytes one answer of an org is expected to take, reserved against the org's share while the
 * answer is measured (before anything is encoded). `take` says whether more may be reserved; a
 * refused reservation holds nothing. Given back once: `release`, or converted by AnswerQueue.charge.
 */
export class AnswerReservation {
  /** Bytes reserved now. */
  bytes = 0;
  /** The org's share was spent: the answer must not be built (the caller refuses it). */
  refused = false;
  private done = false;

  constructor(
    readonly budget: AnswerBudget,
    readonly org: string | undefined,
  ) {}

  /**
   * Reserves `more` bytes. False (and everything released) when the answer, past SMALL_ANSWER,
   * would take the org's committed bytes (held by sockets plus reserved) past ANSWER_QUEUE_ORG_BYTES
   * while the org's other answers commit something.
   */
  take(more: number): boolean {
    if (this.refused) return false;
    // Nothing to count: no org (an anonymous answer), nothing asked, or already handed over.
    if (this.org === undefined || more <= 0 || this.done) return true;
    const total = this.bytes + more;
    // Past the org's share, counting this answer's own reservation; while the org's other answers
    // hold nothing, one answer larger than the share still passes (it is the last).
    const committed = this.budget.orgCommitted(this.org);
    if (total > SMALL_ANSWER && committed + more > this.budget.limits.orgBytes && committed > this.bytes) {
      this.refused = true;
      this.budget.refused++;
      this.release();
      return false;
    }
    this.bytes = total;
    this.budget.moveReserved(this.org, more);
    return true;
  }

  /** Gives back what it holds (once); later takes reserve nothing. */
  release(): void {
    if (this.done) return;
    this.done = true;
    if (this.bytes > 0 && this.org !== undefined) this.budget.moveReserved(this.org, -this.bytes);
    this.bytes = 0;
  }

  /** Whether it was granted and not yet given back (the answer it measured is allowed past the org check). */
  get holding(): boolean {
    return !this.done && !this.refused;
  }
}

/** The answers one connection has handed to its socket and its client has not taken yet. */
export class AnswerQueue {
  /** Bytes held now. */
  bytes = 0;
  /** The org the bytes are counted for (that of the connection's latest answer). */
  org: string | undefined;
  /** The org whose share it waits for (waitFor), until woken when that org's total falls below it. */
  waiting: string | undefined;
  /** When its client last took something (ms, monotonic). */
  lastProgress = performance.now();
  private lastPending = Infinity;
  private lastWritten = -1;
  private closed = false;

  constructor(
    private readonly budget: AnswerBudget,
    readonly hooks: AnswerQueueHooks,
  ) {}

  /**
   * Counts an answer of `bytes` for `org` handed to the socket; the function returned gives it back
   * (once) when the socket has written it. A `reservation` taken while the answer was measured is
   * converted: released once the charge is counted (never a moment when the answer counts for nothing).
   */
  charge(org: string | undefined, bytes: number, reservation?: AnswerReservation): () => void {
    if (this.closed || bytes <= 0) {
      reservation?.release();
      return () => undefined;
    }
    if (org !== this.org && this.bytes > 0) {
      // A connection that changed identity (RESP AUTH as another org): its bytes move with it.
      this.budget.move(this.org, -this.bytes);
      this.budget.move(org, this.bytes);
    }
    if (this.bytes === 0) this.lastProgress = performance.now();
    this.org = org;
    this.bytes += bytes;
    this.budget.move(org, bytes);
    if (reservation !== undefined) {
      if (reservation.holding && reservation.bytes > SMALL_ANSWER) this.budget.admitted++;
      reservation.release();
    }
    let given = false;
    return () => {
      if (given || this.closed) return;
      given = true;
      this.bytes -= bytes;
      this.lastProgress = performance.now();
      this.budget.move(this.org, -bytes);
      if (this.bytes === 0) this.lastPending = Infinity;
    };
  }

  /** A reservation for the answer this connection is producing for `org` (AnswerBudget.reserve). */
  reserve(org: string | undefined): AnswerReservation {
    return this.budget.reserve(org);
  }

  /** Whether the connection may produce another answer for `org`: under its own share, and its org under its share. */
  mayProduce(org: string | undefined): boolean {
    return this.bytes < this.budget.limits.connectionBytes && !this.budget.orgFull(org);
  }

  /** @internal The sweep's look: a transport holding fewer bytes than last time is being read. */
  notice(now: number): void {
    const written = this.hooks.written?.();
    if (written !== undefined) {
      if (written > this.lastWritten) this.lastProgress = now;
      this.lastWritten = written;
      return;
    }
    const pending = this.hooks.pending?.();
    if (pending === undefined) return;
    if (pending < this.lastPending) this.lastProgress = now;
    this.lastPending = pending;
  }

  /** The connection waits for its org's total to fall below the share: `hooks.room` is called then. */
  waitFor(org: string | undefined): void {
    this.waiting = org;
  }

  /** @internal */
  wakeUp(): void {
    this.waiting = undefined;
    this.hooks.room?.();
  }

  /** The connection closed: what it held is freed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.bytes > 0) this.budget.move(this.org, -this.bytes);
    this.bytes = 0;
    this.budget.forget(this);
  }
}

/** Provides the one AnswerBudget (ANSWER_QUEUE_* settings) to every listener. */
@Global()
@Module({
  providers: [{ provide: AnswerBudget, useFactory: (config: Pick<LimitsConfig, 'answers'>) => new AnswerBudget(config.answers), inject: [APP_CONFIG] }],
  exports: [AnswerBudget],
})
export class AnswerBudgetModule implements OnModuleDestroy {
  constructor(private readonly budget: AnswerBudget) {}

  onModuleDestroy(): void {
    this.budget.stop();
  }
}
