import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { tempDir } from '../support/temp-dir';

describe('config: rate limits and TLS', () => {
  it('has no rate limit and no TLS by default', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({});
    expect(config.rateLimitWindowMs).toBe(1000);
    expect(config.tls).toBeUndefined();
  });

  it('reads RATE_LIMITS as level=requests pairs and the window in seconds', () => {
    const config = loadConfig({ RATE_LIMITS: 'free=100, pro = 1000', RATE_LIMIT_WINDOW_SECONDS: '60' });
    expect(config.rateLimits).toEqual({ free: 100, pro: 1000 });
    expect(config.rateLimitWindowMs).toBe(60_000);
  });

  it('refuses malformed RATE_LIMITS and windows', () => {
    for (const RATE_LIMITS of ['free', 'free=0', 'free=-1', 'free=1.5', '=5']) {
      expect(() => loadConfig({ RATE_LIMITS })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ RATE_LIMIT_WINDOW_SECONDS: '0' })).toThrow(ConfigError);
  });

  it('needs both TLS_CERT and TLS_KEY, readable', () => {
    const dir = tempDir();
    try {
      const cert = join(dir.path, 'cert.pem');
      const key = join(dir.path, 'key.pem');
      writeFileSync(cert, 'CERT');
      writeFileSync(key, 'KEY');
      expect(() => loadConfig({ TLS_CERT: cert })).toThrow(/both TLS_CERT and TLS_KEY/);
      expect(() => loadConfig({ TLS_CERT: cert, TLS_KEY: join(dir.path, 'missing.pem') })).toThrow(/TLS_KEY .* cannot be read/);
      const config = loadConfig({ TLS_CERT: cert, TLS_KEY: key });
      expect(config.tls?.cert.toString()).toBe('CERT');
      expect(config.tls?.key.toString()).toBe('KEY');
    } finally {
      dir.cleanup();
    }
  });
});
