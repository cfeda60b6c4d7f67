import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { resolveJwtKeys } from '../../src/auth/jwt-keys';
import { tokenCommandFor } from '../../src/cli/commands/token.command';
import { loadConfig } from '../../src/config/config';
import { MAIN, startService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { TEST_SECRET, http, startTestApp } from '../support/test-app';

/** What `npm run token -- ...` runs. */
const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const ROOT = join(__dirname, '..', '..');

/** The environment without any setting a developer's shell may carry. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['DATA_DIR', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_ISSUER']) delete env[name];
  return env;
};

describe('npm run token', () => {
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('mints a token with the configured secret that the service accepts', async () => {
    const token = execFileSync(process.execPath, [CLI, 'token', '--org', 'minted', '--name', 'Bob', '--service-level', 'gold'], {
      env: { ...cleanEnv(), JWT_SECRET: TEST_SECRET },
    })
      .toString()
      .trim();
    const claims = new JwtService({}).verify(token, { secret: createSecretKey(Buffer.from(TEST_SECRET)) as never });
    expect(claims).toMatchObject({ org: 'minted', name: 'Bob', serviceLevel: 'gold' });
    const app = await startTestApp();
    try {
      expect((await http(`${app.url}/cacheName/list`, { token })).status).toBe(200);
    } finally {
      await app.dispose();
    }
  });

  it('never creates a secret: with none configured and none in the data directory it says what to do and creates nothing', () => {
    const dataDir = join(dir(), 'not-yet');
    const run = spawnSync(process.execPath, [CLI, 'token', '--org', 'dev', '--name', 'me'], { env: { ...cleanEnv(), DATA_DIR: dataDir } });
    expect(run.status).toBe(1);
    expect(run.stdout.toString()).toBe('');
    expect(run.stderr.toString()).toContain(`there is no ${join(dataDir, 'jwt-secret')}; nothing was created`);
    expect(run.stderr.toString()).toContain('--data-dir DIR or DATA_DIR');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('signs with the secret the server created in its DATA_DIR, which stays readable by its owner only', async () => {
    const dataDir = dir();
    const app = await startTestApp({ dataDir, env: { JWT_SECRET: '' } });
    try {
      expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
      const run = spawnSync(process.execPath, [CLI, 'token', '--org', 'dev', '--name', 'me'], { env: { ...cleanEnv(), DATA_DIR: dataDir } });
      expect(run.stderr.toString()).toBe(`signed with the secret in ${join(dataDir, 'jwt-secret')}\n`);
      expect((await http(`${app.url}/cacheName/list`, { token: run.stdout.toString().trim() })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('reads the same settings as the server: JWT_ISSUER is signed in, a short JWT_SECRET is refused', () => {
    const issued = execFileSync(process.execPath, [CLI, 'token', '--org', 'o', '--name', 'n'], {
      env: { ...cleanEnv(), JWT_SECRET: TEST_SECRET, JWT_ISSUER: 'https://issuer.example' },
    }).toString();
    expect(JSON.parse(Buffer.from(issued.split('.')[1], 'base64url').toString())).toMatchObject({ iss: 'https://issuer.example' });
    const short = spawnSync(process.execPath, [CLI, 'token', '--org', 'o', '--name', 'n'], { env: { ...cleanEnv(), JWT_SECRET: 'short' } });
    expect(short.status).toBe(2);
    expect(short.stderr.toString()).toContain('JWT_SECRET is 5 bytes; it must be at least 32');
  });

  it('explains its usage when an argument is missing', () => {
    expect(() => execFileSync(process.execPath, [CLI, 'token', '--org', 'x'], { stdio: 'pipe' })).toThrow(/missing --name/);
  });
});

describe('the start-up hint names the exact token command for this server', () => {
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });

  /** Starts dist/main.js from `cwd`, takes the command from its log and runs it in a shell whose DATA_DIR points elsewhere. */
  async function hintThenMint(env: Record<string, string>, shellEnv: Record<string, string>): Promise<{ hint: string; status: number }> {
    const dataDir = dir();
    const service = await startService(dataDir, { LOG_FORMAT: 'json', ...env }, { cwd: dir() });
    try {
      const hintLine = () =>
        service
          .output()
          .split('\n')
          .map((text) => (text.startsWith('{') ? (JSON.parse(text) as { msg?: string }).msg ?? '' : ''))
          .find((msg) => msg.includes('mint a token'));
      // Logged right after "listening"; JSON logs reach stdout in chunks, within 250 ms.
      for (let waited = 0; hintLine() === undefined && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      const line = hintLine();
      expect(line).toBeDefined();
      const hint = line!.slice(line!.indexOf('TOKEN=$('));
      // Another shell, another DATA_DIR: the command must not depend on it.
      const shell = spawnSync('bash', ['-c', `${hint} && printf %s "$TOKEN"`], { cwd: dir(), env: { ...cleanEnv(), DATA_DIR: join(dir(), 'elsewhere'), ...shellEnv } });
      expect(shell.stderr.toString()).not.toContain('cachelog:');
      expect(shell.status).toBe(0);
      const status = (await http(`${service.url}/cacheName/list`, { token: shell.stdout.toString() })).status;
      return { hint, status };
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  }

  it('with the secret the server created: the printed command mints a token it accepts', async () => {
    const { hint, status } = await hintThenMint({ JWT_SECRET: '', JWT_ISSUER: "it's me" }, {});
    expect(hint).toMatch(/^TOKEN=\$\(JWT_ISSUER='it'\\''s me' node \S+main\.js token --data-dir \S+ --org dev --name dev\)$/);
    expect(status).toBe(200);
  });

  it('with JWT_SECRET: the printed command, with that secret in the environment, mints a token it accepts', async () => {
    const { hint, status } = await hintThenMint({}, { JWT_SECRET: TEST_SECRET });
    expect(hint).not.toContain(TEST_SECRET);
    expect(status).toBe(200);
  });

  it('is `npm run --silent token` with the data directory when the server runs in the package directory', () => {
    const config = loadConfig({ DATA_DIR: '/srv/cache data', JWT_SECRET: TEST_SECRET });
    expect(tokenCommandFor(config, resolveJwtKeys(config), 'dev', 'dev', ROOT)).toBe(
      "TOKEN=$(npm run --silent token -- --data-dir '/srv/cache data' --org dev --name dev)",
    );
    expect(existsSync(MAIN)).toBe(true);
  });

  it('a JWT_SECRET shorter than 32 bytes stops the server at start with a clear message', async () => {
    await expect(startService(dir(), { JWT_SECRET: 'your-256-bit-secret' })).rejects.toThrow(
      /service exited \(1\) before listening:\ninvalid configuration: JWT_SECRET is 19 bytes; it must be at least 32/,
    );
  });
});
