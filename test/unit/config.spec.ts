import { ConfigError, loadConfig } from '../../src/config/config';

describe('configuration from the environment', () => {
  it('has sane defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 9001, host: '127.0.0.1', snapshotEvery: 1000, snapshotsKept: 2, snapshotBytes: 64 * 1024 * 1024, journalSync: 'always', journal: 'leveldb', maxValueBytes: 4 * 1024 * 1024, orgQuotaEnabled: false });
    expect(config.serviceLevelMaxBytes.free).toBe(3 * 1024 ** 3);
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config).toMatchObject({
      maxCachesPerOrg: 10_000,
      maxPendingTasksPerOrg: 100,
      maxExportBytesPerOrg: 1024 ** 3,
      taskRetentionMs: 7 * 24 * 3600 * 1000,
      journalReopenMaxBackoffMs: 5000,
      inlineRowCacheEntries: 50_000,
    });
  });

  it('reads the NATS settings with JOURNAL=nats, and fits the default value size in one NATS message', () => {
    const config = loadConfig({ JOURNAL: 'nats', NATS_URL: 'nats://10.0.0.1:4222, 10.0.0.2:4222', NATS_REPLICAS: '3', NATS_USER: 'u', NATS_PASSWORD: 'p' });
    expect(config.nats).toEqual({
      servers: ['nats://10.0.0.1:4222', '10.0.0.2:4222'],
      user: 'u',
      password: 'p',
      token: undefined,
      replicas: 3,
      stream: 'cachelog',
      timeoutMs: 5000,
      readWaitMs: 2000,
      ownership: true,
      memberTtlMs: 5000,
      forwardTimeoutMs: 10_000,
    });
    expect(config.maxValueBytes).toBe(960 * 1024);
    expect(loadConfig({ JOURNAL: 'nats', MAX_VALUE_BYTES: '1000' }).maxValueBytes).toBe(1000);
    expect(loadConfig({}).nats).toBeUndefined();
  });

  it.each([
    [{ PORT: 'x' }, /PORT must be a whole number/],
    [{ SNAPSHOT_EVERY: '0' }, /SNAPSHOT_EVERY must be a whole number >= 1/],
    [{ SNAPSHOTS_KEPT: '0' }, /SNAPSHOTS_KEPT must be a whole number >= 1/],
    [{ SNAPSHOT_BYTES: '0' }, /SNAPSHOT_BYTES must be a whole number >= 1/],
    [{ JOURNAL_SYNC: 'sometimes' }, /JOURNAL_SYNC must be "always" or "none"/],
    [{ JOURNAL: 'postgres' }, /JOURNAL must be "leveldb", "memory" or "nats"/],
    [{ JOURNAL: 'nats', NATS_URL: 'nats://a:4222,not a server' }, /NATS_URL must be comma-separated/],
    [{ JOURNAL: 'nats', NATS_REPLICAS: '7' }, /NATS_REPLICAS must be between 1 and 5/],
    [{ JOURNAL: 'nats', NATS_STREAM: 'a.b' }, /NATS_STREAM must be/],
    [{ JOURNAL: 'nats', NATS_TIMEOUT_MS: '5' }, /NATS_TIMEOUT_MS must be a whole number >= 100/],
    [{ JOURNAL: 'nats', NATS_READ_WAIT_MS: 'soon' }, /NATS_READ_WAIT_MS/],
    [{ JOURNAL: 'nats', NATS_OWNERSHIP: 'maybe' }, /NATS_OWNERSHIP must be "true" or "false"/],
    [{ JOURNAL: 'nats', NATS_MEMBER_TTL_MS: '100' }, /NATS_MEMBER_TTL_MS must be a whole number >= 500/],
    [{ MAX_VALUE_BYTES: '-3' }, /MAX_VALUE_BYTES/],
    [{ ENABLE_ORG_SERVICE_LEVEL_SAAS: 'yes' }, /ENABLE_ORG_SERVICE_LEVEL_SAAS/],
    [{ JWT_SECRET: 'a', JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----' }, /not both/],
    [{ JWT_SECRET: 'your-256-bit-secret' }, /JWT_SECRET is 19 bytes; it must be at least 32 \(HS256 signs with a 256-bit key/],
    [{ JWT_SECRET: 'é'.repeat(15) }, /JWT_SECRET is 30 bytes/],
    [{ JWT_PUBLIC_KEY: 'not pem' }, /PEM/],
    [{ MAX_CACHES_PER_ORG: '0' }, /MAX_CACHES_PER_ORG must be a whole number >= 1/],
    [{ MAX_PENDING_TASKS_PER_ORG: 'many' }, /MAX_PENDING_TASKS_PER_ORG must be a whole number >= 1/],
    [{ MAX_EXPORT_BYTES_PER_ORG: '-1' }, /MAX_EXPORT_BYTES_PER_ORG must be a whole number >= 0/],
    [{ TASK_RETENTION_SECONDS: '0' }, /TASK_RETENTION_SECONDS must be a whole number >= 1/],
    [{ JOURNAL_REOPEN_MAX_BACKOFF_MS: '5' }, /JOURNAL_REOPEN_MAX_BACKOFF_MS must be a whole number >= 10/],
    [{ INLINE_ROW_CACHE_ENTRIES: '-1' }, /INLINE_ROW_CACHE_ENTRIES must be a whole number >= 0/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
