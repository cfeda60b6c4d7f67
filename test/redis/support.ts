import { Socket, connect } from 'node:net';
import Redis from 'ioredis';
import { RespServer } from '../../src/redis/resp/resp-server';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

export interface RedisTestApp extends TestApp {
  readonly respPort: number;
  /** An ioredis client authenticated as `org` (AUTH <jwt>), on `db` when given. */
  client(org: string, options?: { db?: string; name?: string; resp3?: boolean }): Promise<Redis>;
  dispose(): Promise<void>;
}

/** A real app (real LevelDB in a temp dir, HTTP and RESP on random loopback ports). */
export async function startRedisApp(env: Record<string, string> = {}, options: Pick<Parameters<typeof startTestApp>[0] & object, 'logger' | 'logDestination'> = {}): Promise<RedisTestApp> {
  const app = await startTestApp({ env: { RESP_PORT: '0', ...env }, ...options });
  const respPort = (await app.app.get(RespServer).ready)!;
  const clients: Redis[] = [];
  return {
    ...app,
    respPort,
    async client(org, options = {}) {
      const client = new Redis({
        port: respPort,
        host: '127.0.0.1',
        username: options.db,
        password: tokenFor({ org, name: options.name ?? 'tester' }),
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: true,
        retryStrategy: () => null,
      });
      clients.push(client);
      await client.connect();
      return client;
    },
    async dispose() {
      // ioredis arms a timer per disconnect until its socket closes: wait for every close, so none outlives the file.
      await Promise.all(
        clients.map(async (client) => {
          if (client.status === 'end') return;
          const ended = new Promise((resolve) => client.once('end', resolve));
          client.disconnect();
          await ended;
        }),
      );
      await app.dispose();
    },
  };
}

/** A raw TCP connection: send bytes, read what comes back (until `until` matches or the socket closes). */
export class RawConnection {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(port: number): Promise<RawConnection> {
    const raw = new RawConnection(port);
    await new Promise<void>((resolve, reject) => {
      raw.socket.once('connect', () => resolve());
      raw.socket.once('error', reject);
    });
    return raw;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until the text received so far satisfies `done` (or the socket closes, or the time runs out), and returns it. */
  async read(done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received.toString('latin1')) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now())).unref();
      });
    }
    return this.received.toString('latin1');
  }

  /** Waits for `n` CRLF-terminated lines in all. */
  lines(n: number, timeoutMs?: number): Promise<string> {
    return this.read((t) => t.split('\r\n').length > n, timeoutMs);
  }

  take(): string {
    const text = this.received.toString('latin1');
    this.received = Buffer.alloc(0);
    return text;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A command as RESP bytes. */
export function resp(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
