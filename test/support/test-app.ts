import { createSecretKey } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JwtService } from '@nestjs/jwt';
import { CreateAppOptions, createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/config';
import { Clock } from '../../src/config/clock';
import { tempDir } from './temp-dir';

export const TEST_SECRET = 'test-secret-of-at-least-32-bytes!!';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly dataDir: string;
  readonly config: AppConfig;
  /** Stops the app (clean shutdown) but keeps the data directory. */
  close(): Promise<void>;
  /** Stops the app and removes the data directory. */
  dispose(): Promise<void>;
}

/**
 * A real app on a random loopback port over real LevelDB in a temp dir. Pass `dataDir`
 * to reopen an existing directory (restart tests).
 */
export async function startTestApp(
  options: { env?: Record<string, string>; dataDir?: string; clock?: Clock; logger?: CreateAppOptions['logger']; logDestination?: CreateAppOptions['logDestination'] } = {},
): Promise<TestApp> {
  const dir = options.dataDir ? { path: options.dataDir, cleanup: () => undefined } : tempDir();
  const config = loadConfig({ DATA_DIR: dir.path, JWT_SECRET: TEST_SECRET, PORT: '0', ...options.env });
  const app = await createApp(config, { clock: options.clock, logger: options.logger ?? ['error'], logDestination: options.logDestination });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await app.close();
    }
  };
  return {
    app,
    url,
    dataDir: dir.path,
    config,
    close,
    dispose: async () => {
      await close();
      if (!options.dataDir) dir.cleanup();
    },
  };
}

const jwt = new JwtService({});

/** A real HS256 token signed with the test secret (or another secret, to forge one). */
export function tokenFor(
  claims: Record<string, unknown> & { org?: string },
  options: { secret?: string; expiresIn?: number } = {},
): string {
  return jwt.sign(
    { name: 'tester', serviceLevel: 'free', ...claims },
    { secret: createSecretKey(Buffer.from(options.secret ?? TEST_SECRET)) as never, algorithm: 'HS256', ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}) },
  );
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly text: string;
  json<T = any>(): T;
}

/** A small HTTP client over fetch. `body` objects are sent as JSON, Buffers as octet-stream. */
export async function http(
  url: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: Buffer | string | undefined;
  if (Buffer.isBuffer(options.body)) {
    headers['content-type'] ??= 'application/octet-stream';
    body = options.body;
  } else if (typeof options.body === 'string') {
    body = options.body;
  } else if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(url, { method: options.method ?? 'GET', headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  return { status: response.status, headers: response.headers, body: bytes, text, json: () => JSON.parse(text) };
}
