import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** Only loopback: the benchmark never sends traffic anywhere else. */
export const HOST = '127.0.0.1';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when the port accepts a connection; bounded by `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/** The path of an executable, or undefined. */
export function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}

export function run(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input: options.input, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return `${result.stdout}${result.stderr}`;
}

/** Stops a child we started, by its pid; SIGKILL after a grace period. */
export async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface Forked {
  readonly child: ChildProcess;
  /** Sends a request over IPC and waits for the reply with the same id. */
  request<T = unknown>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** The first message of type `ready`. */
  readonly ready: Promise<{ port: number; startMs: number; [key: string]: unknown }>;
}

let nextId = 1;

/** Forks a Node script with IPC; it must send `{type:'ready', port}` once it listens. */
export function forkServer(script: string, args: string[], env: Record<string, string>, execArgv: string[] = []): Forked {
  const child = fork(script, args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (value: unknown) => void>();
  const ready = new Promise<{ port: number; startMs: number }>((resolve, reject) => {
    child.on('message', (message: { type?: string; id?: number; port?: number; startMs?: number }) => {
      if (message.type === 'ready') resolve(message as { port: number; startMs: number });
      else if (message.id !== undefined) {
        waiting.get(message.id)?.(message);
        waiting.delete(message.id);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before it was ready`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    request<T>(message: Record<string, unknown>, timeoutMs = 600_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(message).slice(0, 80)}`)), timeoutMs);
        waiting.set(id, (value) => {
          clearTimeout(timer);
          resolve(value as T);
        });
        child.send({ ...message, id });
      });
    },
  };
}

export function spawnQuiet(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}
