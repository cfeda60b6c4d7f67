import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { tempDir } from '../support/temp-dir';
import { TEST_SECRET, http, startTestApp } from '../support/test-app';

/** What `npm run token -- ...` runs. */
const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

describe('npm run token', () => {
  it('mints a token with the configured secret that the service accepts', async () => {
    const token = execFileSync(process.execPath, [CLI, 'token', '--org', 'minted', '--name', 'Bob', '--service-level', 'gold'], {
      env: { ...process.env, JWT_SECRET: TEST_SECRET },
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

  it('uses the secret generated under DATA_DIR when none is configured, readable by its owner only', async () => {
    const dir = tempDir();
    try {
      const env = { ...process.env, DATA_DIR: dir.path, JWT_SECRET: '' };
      const token = execFileSync(process.execPath, [CLI, 'token', '--org', 'dev', '--name', 'me'], { env }).toString().trim();
      const { statSync } = await import('node:fs');
      expect(statSync(join(dir.path, 'jwt-secret')).mode & 0o777).toBe(0o600);
      const app = await startTestApp({ dataDir: dir.path, env: { JWT_SECRET: '' } });
      try {
        expect((await http(`${app.url}/cacheName/list`, { token })).status).toBe(200);
      } finally {
        await app.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('explains its usage when an argument is missing', () => {
    expect(() => execFileSync(process.execPath, [CLI, 'token', '--org', 'x'], { stdio: 'pipe' })).toThrow(/missing --name/);
  });
});
