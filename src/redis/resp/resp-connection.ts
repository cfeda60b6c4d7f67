import type { Socket } from 'node:net';
import type { RedisEngine } from '../engine/engine';
import { isPending } from '../engine/engine';
import { RedisReply, error } from '../engine/reply';
import { Session } from '../engine/session';
import { encodeReply } from './resp-encoder';
import { ParserLimits, RequestParser } from './request-parser';
import { performance } from 'node:perf_hooks';
import type { AnswerBudget, AnswerQueue } from '../../core/answer-budget';

export interface ConnectionLimits extends ParserLimits {
  readonly maxQueryBytes: number;
  /** RESP_MAX_OUTPUT_BYTES: unread reply bytes beyond which the client is disconnected at once. */
  readonly maxOutputBytes: number;
  /** ANSWER_QUEUE_CONNECTION_BYTES: unread reply bytes beyond which no further command runs until the client reads. */
  readonly answerBytes: number;
  readonly idleTimeoutMs: number;
  readonly authTimeoutMs: number;
}

/** Commands parsed but not yet run, or replies not yet written, beyond which the socket stops being read. */
const MAX_IN_FLIGHT = 4096;

const EMPTY = Buffer.alloc(0);

/** An error reply's first word (`ERR`, `NOAUTH`, ...): what a log line may say of it. */
const failureOf = (reply: RedisReply): string | undefined => (reply.t === 'error' ? reply.s.slice(0, Math.max(0, reply.s.indexOf(' '))) || reply.s.slice(0, 16) : undefined);

interface Slot {
  bytes: Buffer | undefined;
  /** Gives its bytes back to the answer budget, once the socket has written them out. */
  release?: () => void;
}

/** Told of every command answered: its name (a known command, else `unknown`), time, and its error's first word if it failed. */
export type CommandObserver = (session: Session, command: string, seconds: number, failure: string | undefined) => void;

export interface ConnectionCounters {
  commands: number;
  inputBytes: number;
  outputBytes: number;
}

/**
 * One RESP client: bytes → commands → the engine → replies written in order. Writes of a
 * pipeline go to the engine without waiting for each other (they group-commit); a command
 * the engine marks as a barrier (a read, a session change) holds the next one until it has
 * answered, so a read sees this connection's earlier writes. Bounded everywhere: the query
 * buffer, the commands waiting, the replies a client does not read (then it is
 * disconnected), idle and unauthenticated time.
 */
export class RespConnection {
  readonly session: Session;
  private readonly parser: RequestParser;
  private readonly waiting: Buffer[][] = [];
  private readonly slots: Slot[] = [];
  private barrier = false;
  private closed = false;
  private ending = false;
  private paused = false;
  private authTimer: NodeJS.Timeout | undefined;
  /** Its replies handed to the socket and not yet written out (the answer budget, per connection and per org). */
  private readonly answers: AnswerQueue;

  constructor(
    private readonly socket: Socket,
    private readonly engine: RedisEngine,
    private readonly limits: ConnectionLimits,
    private readonly counters: ConnectionCounters,
    budget: AnswerBudget,
    now: number,
    private readonly observe: CommandObserver = () => undefined,
  ) {
    this.answers = budget.open({
      drop: () => this.destroy(),
      room: () => this.onRoom(),
      pending: () => socket.writableLength,
      written: () => socket.bytesWritten - socket.writableLength,
    });
    this.session = new Session(now, `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`, `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`, (reply) =>
      this.pushMessage(reply),
    );
    this.parser = new RequestParser(limits, () => this.session.authenticated);
    engine.open(this.session);
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs);
      // A subscriber waits for notifications: like Redis's `timeout`, idleness does not end it.
      // Nor is a connection idle while a command of it is still executing (a write waiting
      // for a slow journal): its client is waiting for us, not the other way round.
      socket.on('timeout', () => {
        if (this.session.subscriptions === 0 && !this.executing) this.destroy();
      });
    }
    this.authTimer = setTimeout(() => {
      if (!this.session.authenticated) this.destroy();
    }, limits.authTimeoutMs);
    this.authTimer.unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => process.nextTick(() => this.onRoom()));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.ending) return;
    this.counters.inputBytes += chunk.length;
    try {
      this.feed(chunk);
    } catch (caught) {
      // A bug must cost this connection, never the process.
      this.destroy();
    }
  }

  private feed(chunk: Buffer): void {
    let next = chunk;
    for (;;) {
      const { commands, error: broken } = this.parser.push(next);
      for (const command of commands) this.waiting.push(command);
      const problem = broken ?? (this.parser.buffered > this.limits.maxQueryBytes ? 'ERR Protocol error: too big query buffer (RESP_MAX_QUERY_BYTES)' : undefined);
      if (problem !== undefined) {
        // Redis answers a protocol error and closes: the commands before it still answer, in order.
        this.protocolError = problem;
        this.waiting.push([]);
        this.socket.pause();
      }
      this.run();
      // Before AUTH the parser stops after each command; go on once it has run.
      if (problem !== undefined || commands.length === 0 || !this.parser.hasBuffered || this.ending || this.closed) return;
      next = EMPTY;
    }
  }

  private protocolError: string | undefined;

  /** The org its replies are counted for (none before AUTH). */
  private get org(): string | undefined {
    return this.session.principal?.org;
  }

  /** Runs waiting commands until one is a barrier, or its unread replies are over a share; then writes what is ready. */
  private run(): void {
    while (!this.barrier && this.waiting.length > 0 && !this.ending && !this.closed) {
      if (!this.answers.mayProduce(this.org)) {
        // Backpressure: no command runs (and none is read) until the client reads its replies.
        this.holdForRoom();
        break;
      }
      const args = this.waiting.shift()!;
      if (args.length === 0) {
        // The protocol error's place in the order: answer it, then close.
        this.fill(this.push(), error(this.protocolError ?? 'ERR Protocol error'));
        this.ending = true;
        break;
      }
      this.counters.commands++;
      const started = performance.now();
      const name = this.commandName(args[0]);
      const outcome = this.engine.execute(this.session, args);
      const slot = this.push();
      if (!isPending(outcome)) {
        this.fill(slot, outcome);
        this.observe(this.session, name, (performance.now() - started) / 1000, failureOf(outcome));
      } else {
        if (outcome.barrier) this.barrier = true;
        const barrier = outcome.barrier;
        outcome.promise.then(
          (reply) => {
            this.observe(this.session, name, (performance.now() - started) / 1000, failureOf(reply));
            this.settle(slot, reply, barrier);
          },
          () => this.settle(slot, error('ERR internal error'), barrier),
        );
      }
      if (this.session.closing) this.ending = true;
    }
    this.flush();
    this.pauseIfFull();
    this.resumeIfRoom();
  }

  private commandName(raw: Buffer): string {
    if (raw.length > 32) return 'unknown';
    const name = raw.toString('latin1').toLowerCase();
    return this.engine.supported.has(name) ? name : 'unknown';
  }

  /** A pub/sub message: after every reply already due, under the same output bound. */
  private pushMessage(reply: RedisReply): void {
    if (this.closed || this.ending) return;
    this.fill(this.push(), reply);
    this.flush();
  }

  private settle(slot: Slot, reply: RedisReply, barrier: boolean): void {
    if (this.closed) return;
    this.fill(slot, reply);
    if (barrier) this.barrier = false;
    this.run();
  }

  private push(): Slot {
    const slot: Slot = { bytes: undefined };
    this.slots.push(slot);
    return slot;
  }

  /** Encodes a reply into its slot: from now on its bytes are held for the client, so they count against the answer budget. */
  private fill(slot: Slot, reply: RedisReply): void {
    const bytes = encodeReply(reply, this.session.resp);
    slot.bytes = bytes;
    slot.release = this.answers.charge(this.org, bytes.length);
  }

  /** Writes the replies that are ready, in order (a pipeline's replies go out in one write). */
  private flush(): void {
    if (this.closed) return;
    let corked = false;
    while (this.slots.length > 0 && this.slots[0].bytes !== undefined) {
      if (!corked) {
        this.socket.cork();
        corked = true;
      }
      const { bytes, release } = this.slots.shift()!;
      this.counters.outputBytes += bytes!.length;
      // Counted until the socket has written it out: the write's callback gives it back (and
      // wakes a connection that stopped for it: 'drain' comes before the callbacks).
      this.socket.write(bytes!, () => {
        release?.();
        if (this.paused) this.onRoom();
      });
    }
    if (corked) this.socket.uncork();
    if (this.answers.bytes > this.limits.maxOutputBytes) {
      // A client that does not read its replies (Redis's client-output-buffer-limit): disconnected.
      this.destroy();
      return;
    }
    if (this.ending && this.slots.length === 0) {
      this.closed = true;
      this.socket.end();
      this.engine.close(this.session);
    }
  }

  private pauseIfFull(): void {
    if (this.paused || this.closed) return;
    if (!this.answers.mayProduce(this.org)) this.holdForRoom();
    else if (this.waiting.length + this.slots.length > MAX_IN_FLIGHT) this.stopReading();
  }

  /** Over its own share it waits for its socket to drain; within it (its org over its share) for the org's total to fall. */
  private holdForRoom(): void {
    if (this.answers.bytes < this.limits.answerBytes) this.answers.waitFor(this.org);
    this.stopReading();
  }

  private stopReading(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.socket.pause();
  }

  /** The socket drained, or the org's total fell below its share: run what waits, read again if there is room. */
  private onRoom(): void {
    if (this.closed) return;
    if (this.waiting.length > 0 && !this.barrier) this.run();
    else this.resumeIfRoom();
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.closed || this.ending) return;
    if (this.waiting.length + this.slots.length <= MAX_IN_FLIGHT / 2 && this.answers.mayProduce(this.org)) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Whether a command it sent has not been answered yet (its reply slot is still empty). */
  private get executing(): boolean {
    return this.slots.some((slot) => slot.bytes === undefined);
  }

  get authenticated(): boolean {
    return this.session.authenticated;
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    this.answers.close();
    if (this.authTimer !== undefined) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.closed = true;
    this.waiting.length = 0;
    this.engine.close(this.session);
  }

  /** Ends the connection after what it has been answered (a shutdown). */
  end(): void {
    this.ending = true;
    this.waiting.length = 0;
    this.flush();
    if (!this.closed) setTimeout(() => this.destroy(), 1000).unref();
  }
}
