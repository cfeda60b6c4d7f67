/** A Server-Sent-Events client over fetch: reads messages one at a time. */
export interface SseMessage {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

export class SseClient {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
    private readonly controller: AbortController,
  ) {}

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    return new SseClient(response.status, response.headers, response.body?.getReader(), controller);
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
      const chunk = await this.reader?.read();
      if (chunk === undefined || chunk.done) return undefined;
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
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
    this.controller.abort();
  }
}
