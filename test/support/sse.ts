import { IncomingHttpHeaders, IncomingMessage, ClientRequest, request } from 'node:http';

/** A Server-Sent-Events client over node:http: reads messages one at a time. */
export interface SseMessage {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

export class SseClient {
  private buffer = '';
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly req: ClientRequest,
    private readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.notify();
    });
    res.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  static open(url: string, headers: Record<string, string>): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false });
      req.on('response', (res) => resolve(new SseClient(req, res)));
      req.on('error', reject);
      req.end();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next message (comments skipped); undefined when the stream ended. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const message: { id?: string; event: string; data: string[] } = { event: 'message', data: [] };
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0 || line === '') continue;
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') message.id = value;
          else if (field === 'event') message.event = value;
          else if (field === 'data') message.data.push(value);
        }
        if (message.data.length === 0 && message.id === undefined) continue;
        return { id: message.id, event: message.event, data: message.data.join('\n') };
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Messages until `count` were read. */
  async take(count: number): Promise<SseMessage[]> {
    const out: SseMessage[] = [];
    while (out.length < count) {
      const message = await this.next();
      if (message === undefined) break;
      out.push(message);
    }
    return out;
  }

  close(): void {
    this.req.destroy();
  }
}
