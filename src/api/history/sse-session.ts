import { Writable } from 'node:stream';

/** How long a dropped client gets to read what was sent and the end event. */
const END_GRACE_MS = 5_000;

export type EndReason = 'slow-consumer' | 'shutdown' | 'error';

/**
 * One Server-Sent-Events connection with a bounded buffer. Writes go straight to the
 * socket while it accepts them; once it pushes back, messages wait in a queue of at most
 * `maxQueued`. A client that lets the queue overflow is dropped with a final `end` event
 * naming the reason and the last sequence number it was sent, so it can reconnect with
 * `Last-Event-ID`. Memory per client is bounded either way.
 */
export class SseSession {
  private queue: Array<{ seq: number; chunk: string }> = [];
  private queuedBytes = 0;
  /** Sequence number of the newest event written to the socket. */
  private sentSeq: number;
  private blocked = false;
  private closed = false;
  private drainWaiters: Array<() => void> = [];
  /** Sequence number of the newest event handed to the socket (or queued). */
  lastSeq: number;

  constructor(
    private readonly out: Writable,
    private readonly maxQueued: number,
    fromSeq: number,
    private readonly onClose: () => void,
    /** Cuts the connection of a client that does not take the end event (default: destroy `out`). */
    private readonly kill: () => void = () => out.destroy(),
    /** Bytes (of event text) that may wait, whatever their count: large events fill memory long before many small ones. */
    private readonly maxQueuedBytes = Infinity,
  ) {
    this.lastSeq = fromSeq - 1;
    this.sentSeq = fromSeq - 1;
    out.on('drain', () => this.flush());
    out.on('close', () => this.close());
    out.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Events waiting for the socket. */
  get queued(): number {
    return this.queue.length;
  }

  /** Bytes (characters) of event text waiting for the socket. */
  get queuedText(): number {
    return this.queuedBytes;
  }

  /** Sends one event (`id` is its sequence number). False once the session is closed. */
  event(seq: number, data: unknown): boolean {
    if (this.closed || seq <= this.lastSeq) return !this.closed;
    this.lastSeq = seq;
    return this.write(seq, `id: ${seq}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (!this.closed && !this.blocked) this.out.write(`: ${text}\n\n`);
  }

  /** Resolves when the socket takes more (used to pace catch-up reads), or the session closed. */
  writable(): Promise<void> {
    if (!this.blocked || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Ends the stream with `event: end` and the reason. */
  end(reason: EndReason, message?: string): void {
    if (this.closed) return;
    const data = JSON.stringify({ reason, lastSeq: this.sentSeq, ...(message ? { message } : {}) });
    this.queue = [];
    this.queuedBytes = 0;
    this.out.write(`event: end\ndata: ${data}\n\n`);
    this.out.end();
    // A client that does not read would keep the socket (and its buffer) forever.
    const timer = setTimeout(this.kill, END_GRACE_MS);
    timer.unref();
    this.close();
  }

  private write(seq: number, chunk: string): boolean {
    if (this.blocked) {
      if (this.queue.length >= this.maxQueued) {
        this.end('slow-consumer', `more than ${this.maxQueued} events were waiting for this client`);
        return false;
      }
      if (this.queuedBytes + chunk.length > this.maxQueuedBytes) {
        this.end('slow-consumer', `more than ${this.maxQueuedBytes} bytes of events were waiting for this client (SSE_QUEUE_BYTES)`);
        return false;
      }
      this.queuedBytes += chunk.length;
      this.queue.push({ seq, chunk });
      return true;
    }
    this.sentSeq = seq;
    if (!this.out.write(chunk)) this.blocked = true;
    return true;
  }

  private flush(): void {
    this.blocked = false;
    while (this.queue.length > 0 && !this.blocked) {
      const { seq, chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.sentSeq = seq;
      if (!this.out.write(chunk)) this.blocked = true;
    }
    if (!this.blocked) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    this.onClose();
  }
}
