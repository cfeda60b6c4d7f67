import { Logger } from '@nestjs/common';
import { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';

/** How often the watchdog looks at the follower. */
const WATCH_MS = 1000;
/**
 * How long the stream may be known to hold messages past the last one delivered, with none
 * delivered, before the consumer is taken for stalled and made again. Far above the delivery
 * lag (milliseconds); a restart costs a consumer's creation and one log line.
 */
export const STALL_MS = 3000;
/** While nothing arrives, how often the stream's end is asked for (one request). */
const PROBE_MS = 2000;
/**
 * The pull's expiry: nats.js sends a heartbeat interval of half of it and notices two missed
 * ones (its default, 30 s, leaves a consumer on a dead server unnoticed for 30 s or more).
 */
const PULL_EXPIRES_MS = 5000;

export interface LiveFollowerSource {
  /** An ordered consumer of the whole stream from stream sequence `startSeq`. */
  consumer(startSeq: number): Promise<Consumer>;
  /** The stream's last sequence, as the server has it now. */
  lastSeq(): Promise<number>;
  /** Each message, once, in stream order. */
  deliver(msg: JsMsg): void;
}

/**
 * Follows a JetStream stream from a sequence on, with one ordered consumer, and keeps
 * following it: a consumer whose messages end or throw, or that delivers nothing for STALL_MS
 * while the stream is known to hold more (this node's own acknowledgements, or a probe of the
 * stream's end), is stopped and a new one made from the last sequence delivered, with a log line.
 *
 * Why not leave it to nats.js (3.4.0): its ordered consumer notices a consumer lost with a
 * server (R1 consumers live on one server) only after two missed idle heartbeats, 30 s with
 * default options, and its `reset()` keeps the dead pulls' pending count, so the recreated
 * consumer's first pull asks for `max_messages - pending` messages (0 measured): it delivers
 * one message and stalls until heartbeats are missed again. A consumer made here is a new
 * one, with nothing pending.
 */
export class LiveFollower {
  private readonly logger = new Logger('NatsJournal');
  private messages: ConsumerMessages | undefined;
  private consumerNow: Consumer | undefined;
  private generation = 0;
  /** The stream sequence of the last message delivered. */
  private seen: number;
  /** The stream's end as last known. */
  private end: number;
  private lastProgress = performance.now();
  private lastProbe = 0;
  /** Why the current consumer's messages ended (then it is made again), undefined while they flow. */
  private ended: string | undefined;
  private busy = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** How many times the consumer was made again (for tests and the log). */
  restarts = 0;

  constructor(
    private readonly source: LiveFollowerSource,
    /** The stream sequence after which to start. */
    after: number,
  ) {
    this.seen = after;
    this.end = after;
  }

  /** Makes the first consumer (its failure fails the caller) and starts watching it. */
  async start(): Promise<void> {
    await this.run();
    this.timer = setInterval(() => void this.watch(), WATCH_MS);
    this.timer.unref();
  }

  /** The stream is known to hold a message at `streamSeq` (this node's own acknowledged publish). */
  reached(streamSeq: number): void {
    if (streamSeq > this.end) {
      // The stall clock starts when the follower is first known to be behind, not at its last delivery.
      if (this.end <= this.seen) this.lastProgress = performance.now();
      this.end = streamSeq;
    }
  }

  private async run(): Promise<void> {
    const generation = ++this.generation;
    const consumer = await this.source.consumer(this.seen + 1);
    const messages = await consumer.consume({ max_messages: 1024, expires: PULL_EXPIRES_MS });
    if (this.closed || generation !== this.generation) {
      messages.stop();
      return;
    }
    this.messages = messages;
    this.consumerNow = consumer;
    this.ended = undefined;
    this.lastProgress = performance.now();
    void (async () => {
      for await (const msg of messages) {
        if (generation !== this.generation) return;
        if (msg.seq <= this.seen) continue; // a consumer made again may repeat what was delivered
        this.seen = msg.seq;
        if (msg.seq > this.end) this.end = msg.seq;
        this.lastProgress = performance.now();
        try {
          this.source.deliver(msg);
        } catch (error) {
          this.logger.error(`applying stream message ${msg.seq} failed: ${(error as Error).message}`);
        }
      }
    })().then(
      () => this.stopped(generation, 'they ended'),
      (error: Error) => this.stopped(generation, error.message),
    );
  }

  private stopped(generation: number, why: string): void {
    if (!this.closed && generation === this.generation) this.ended = why;
  }

  private async watch(): Promise<void> {
    if (this.closed || this.busy) return;
    this.busy = true;
    try {
      if (this.ended !== undefined) return await this.restart(`its messages stopped: ${this.ended}`);
      const now = performance.now();
      if (now - this.lastProgress < STALL_MS) return;
      if (this.end <= this.seen && now - this.lastProbe >= PROBE_MS) {
        this.lastProbe = now;
        let last: number;
        try {
          last = await this.source.lastSeq();
        } catch {
          return; // the server does not answer: nothing to compare with (the connection's own log says so)
        }
        this.reached(last);
        return; // behind from now on: stalled only if still nothing comes for STALL_MS
      }
      if (this.end > this.seen) await this.restart(`nothing delivered for ${Math.round(now - this.lastProgress)} ms while the stream is at ${this.end}`);
    } finally {
      this.busy = false;
    }
  }

  private async restart(why: string): Promise<void> {
    this.logger.warn(`following the stream stalled at stream seq ${this.seen} (${why}): making its consumer again from ${this.seen + 1}`);
    this.generation++; // what the old consumer still hands in is ignored
    const old = this.messages;
    const oldConsumer = this.consumerNow;
    this.messages = undefined;
    this.consumerNow = undefined;
    this.ended = 'no consumer';
    old?.stop();
    void oldConsumer?.delete().catch(() => undefined);
    try {
      await this.run();
      this.restarts++;
      this.logger.log(`following the stream again from stream seq ${this.seen + 1}`);
    } catch (error) {
      this.logger.warn(`following the stream: no consumer yet (${(error as Error).message}); trying again`);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.generation++;
    const messages = this.messages;
    this.messages = undefined;
    messages?.stop();
  }
}
