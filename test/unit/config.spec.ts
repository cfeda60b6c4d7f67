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
    });
  });

  it.each([
    [{ PORT: 'x' }, /PORT must be a whole number/],
    [{ SNAPSHOT_EVERY: '0' }, /SNAPSHOT_EVERY must be a whole number >= 1/],
    [{ SNAPSHOTS_KEPT: '0' }, /SNAPSHOTS_KEPT must be a whole number >= 1/],
    [{ SNAPSHOT_BYTES: '0' }, /SNAPSHOT_BYTES must be a whole number >= 1/],
    [{ JOURNAL_SYNC: 'sometimes' }, /JOURNAL_SYNC must be "always" or "none"/],
    [{ JOURNAL: 'postgres' }, /JOURNAL must be "leveldb" or "memory"/],
    [{ MAX_VALUE_BYTES: '-3' }, /MAX_VALUE_BYTES/],
    [{ ENABLE_ORG_SERVICE_LEVEL_SAAS: 'yes' }, /ENABLE_ORG_SERVICE_LEVEL_SAAS/],
    [{ JWT_SECRET: 'a', JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----' }, /not both/],
    [{ JWT_PUBLIC_KEY: 'not pem' }, /PEM/],
    [{ MAX_CACHES_PER_ORG: '0' }, /MAX_CACHES_PER_ORG must be a whole number >= 1/],
    [{ MAX_PENDING_TASKS_PER_ORG: 'many' }, /MAX_PENDING_TASKS_PER_ORG must be a whole number >= 1/],
    [{ MAX_EXPORT_BYTES_PER_ORG: '-1' }, /MAX_EXPORT_BYTES_PER_ORG must be a whole number >= 0/],
    [{ TASK_RETENTION_SECONDS: '0' }, /TASK_RETENTION_SECONDS must be a whole number >= 1/],
    [{ JOURNAL_REOPEN_MAX_BACKOFF_MS: '5' }, /JOURNAL_REOPEN_MAX_BACKOFF_MS must be a whole number >= 10/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
