import { Socket, connect } from 'node:net';

/**
 * A plain TCP connection for edge tests: send exactly the bytes given (headers without the
 * body they announce, a body a byte at a time), and see what the server answers and when it
 * closes. Nothing here waits forever: every wait has a bound and says when it ran out.
 */
export class RawConnection {
  private received: Buffer[] = [];
  private closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  static open(url: string, localAddress?: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Resolves true once `done()` holds, false when `ms` passed first. */
  until(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, ms);
      this.waiters.add(check);
    });
  }

  /** Waits for a complete response head; its status, or undefined when none came within `ms`. */
  async status(ms: number): Promise<number | undefined> {
    await this.until(() => this.text.includes('\r\n\r\n') || this.closed, ms);
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.text);
    return match ? Number(match[1]) : undefined;
  }

  /** The JSON body of the first response (content-length framed). */
  async json(ms: number): Promise<any> {
    await this.until(() => {
      const head = this.text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(this.text);
      return head >= 0 && length !== null && this.text.length >= head + 4 + Number(length[1]);
    }, ms);
    const head = this.text.indexOf('\r\n\r\n');
    const length = Number(/content-length: (\d+)/i.exec(this.text)![1]);
    return JSON.parse(this.text.slice(head + 4, head + 4 + length));
  }

  closedWithin(ms: number): Promise<boolean> {
    return this.until(() => this.closed, ms);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
