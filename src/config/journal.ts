import { resolve } from 'node:path';
import { z } from 'zod';
import { MiB, Values, flag, namespace, oneOf, optionalText, setting, wholeNumber } from './settings';

/** How much history `compact` keeps: everything, events newer than N days, or events after the K-th latest snapshot. */
export type RetentionPolicy = { readonly kind: 'all' } | { readonly kind: 'days'; readonly days: number } | { readonly kind: 'snapshots'; readonly count: number };

export function parseRetention(raw: string | undefined): RetentionPolicy | undefined {
  const text = raw?.trim() ?? '';
  if (text === '' || text === 'all') return { kind: 'all' };
  const match = /^(days|snapshots):(\d{1,6})$/.exec(text);
  const n = match ? Number(match[2]) : 0;
  if (!match || n < 1) return undefined;
  return match[1] === 'days' ? { kind: 'days', days: n } : { kind: 'snapshots', count: n };
}

/** The journal: which one, where, how durable, snapshots, retention, repair, and NATS for scale-out. */
export const journalSettings = namespace('journal', {
  dataDir: setting('DATA_DIR', () => z.string().default('./data').transform((dir) => resolve(dir)), 'the LevelDB database (journal, snapshots, read models) and the generated secret'),
  journal: setting('JOURNAL', oneOf(['leveldb', 'memory', 'nats'], 'leveldb', 'JOURNAL must be "leveldb", "memory" or "nats"'), 'the journal: leveldb (under DATA_DIR), memory (nothing kept) or nats (JetStream, scale-out)'),
  journalSync: setting('JOURNAL_SYNC', oneOf(['always', 'none'], 'always', 'JOURNAL_SYNC must be "always" or "none"'), 'always: a write is acknowledged after fsync; none: once the OS has it'),
  snapshotEvery: setting('SNAPSHOT_EVERY', wholeNumber(1000, 1), 'snapshot a cache after N events (and on clean shutdown)'),
  snapshotBytes: setting('SNAPSHOT_BYTES', wholeNumber(64 * MiB, 1), 'snapshot a cache once this many bytes were journaled since its last snapshot (and its own size)'),
  snapshotsKept: setting('SNAPSHOTS_KEPT', wholeNumber(2, 1), 'snapshots kept per cache, newest first'),
  retention: setting(
    'JOURNAL_RETENTION',
    (env) =>
      z
        .string()
        .optional()
        .transform((raw, ctx) => {
          const retention = parseRetention(raw);
          if (retention === undefined) {
            ctx.addIssue({ code: 'custom', message: `${env} must be "all", "days:N" or "snapshots:K", got "${raw}"` });
            return z.NEVER;
          }
          return retention;
        }),
    'what the compact task keeps: all, days:N or snapshots:K',
  ),
  repair: setting('REPAIR', flag(false), 'true (or --repair): on start, truncate a damaged journal to its last good record'),
  journalReopenMaxBackoffMs: setting('JOURNAL_REOPEN_MAX_BACKOFF_MS', wholeNumber(5000, 10), 'after a storage fault the journal reopens itself, waiting at most this long between attempts'),
  inlineRowCacheEntries: setting('INLINE_ROW_CACHE_ENTRIES', wholeNumber(50_000, 0), 'key-listing rows the LevelDB journal keeps in memory, so an overwrite needs no read first (0: off)'),
  /** A cache whose journal holds more than this many times its live size (plus historyCompactMinBytes) is compacted by itself; 0: never. */
  historyCompactFactor: setting('HISTORY_COMPACT_FACTOR', wholeNumber(4, 0), 'a cache whose journal retains more than this many times its live size is snapshotted and compacted by itself (0: never)'),
  historyCompactMinBytes: setting('HISTORY_COMPACT_MIN_BYTES', wholeNumber(MiB, 0), "a cache's journal is never compacted by itself below this many bytes above its factor"),
  /** JOURNAL=nats: where the JetStream is and how the journal uses it. */
  nats: {
    servers: setting(
      'NATS_URL',
      (env) =>
        z
          .string()
          .default('nats://127.0.0.1:4222')
          .transform((raw, ctx) => {
            const servers = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
            if (servers.length === 0 || servers.some((s) => !/^(nats:\/\/|tls:\/\/)?[^\s/]+:\d{1,5}$/.test(s))) {
              ctx.addIssue({ code: 'custom', message: `${env} must be comma-separated host:port or nats://host:port servers, got "${raw}"` });
              return z.NEVER;
            }
            return servers as readonly string[];
          }),
      'JOURNAL=nats: the NATS servers, comma-separated',
    ),
    user: setting('NATS_USER', optionalText(), 'JOURNAL=nats: user name for the NATS servers'),
    password: setting('NATS_PASSWORD', optionalText(), 'JOURNAL=nats: password for the NATS servers'),
    token: setting('NATS_TOKEN', optionalText(), 'JOURNAL=nats: token for the NATS servers'),
    replicas: setting('NATS_REPLICAS', (env) => wholeNumber(1, 1)(env).refine((n) => n <= 5, { message: `${env} must be between 1 and 5` }), 'JOURNAL=nats: replicas of the stream and buckets (3 in a 3-server cluster)'),
    stream: setting(
      'NATS_STREAM',
      (env) =>
        z
          .string()
          .default('cachelog')
          .refine((s) => /^[A-Za-z0-9_-]{1,32}$/.test(s), { message: `${env} must be 1-32 letters, digits, "-" or "_"` }),
      'JOURNAL=nats: stream name, subject and bucket prefix (deployments sharing one NATS use different names)',
    ),
    timeoutMs: setting(
      'NATS_TIMEOUT_MS',
      wholeNumber(5000, 100),
      'JOURNAL=nats: how long a publish or request may take before the write is refused (503); also how long a write that other nodes keep beating to its cache is decided again before 503 JOURNAL_CONTENDED',
    ),
    readWaitMs: setting('NATS_READ_WAIT_MS', wholeNumber(2000, 0), "JOURNAL=nats: how long a ?minSeq= read waits for this node's follower"),
    ownership: setting(
      'NATS_OWNERSHIP',
      flag(true),
      'JOURNAL=nats: true: one live node owns each cache and the others forward its commands to it (docs/scale-out.md); false: every node writes any cache it is asked to (the fence keeps it correct; concurrent writers contend)',
    ),
    memberTtlMs: setting(
      'NATS_MEMBER_TTL_MS',
      wholeNumber(5000, 500),
      "JOURNAL=nats: a node whose heartbeat (one a second) has not been heard for this long is dead: its caches are owned by the others (a killed process's are at once, when NATS sees its connection close)",
    ),
    forwardTimeoutMs: setting(
      'NATS_FORWARD_TIMEOUT_MS',
      wholeNumber(10_000, 100),
      "JOURNAL=nats: how long a command forwarded to its cache's owner may take; past it the client gets 503 JOURNAL_UNAVAILABLE (the command may still land) and it is never sent again",
    ),
  },
});

/** The NATS settings are there only with JOURNAL=nats. */
export function journalConfig(values: Values<typeof journalSettings.declaration>) {
  return { ...values, nats: values.journal === 'nats' ? values.nats : undefined };
}

export type JournalConfig = ReturnType<typeof journalConfig>;
export type NatsSettings = NonNullable<JournalConfig['nats']>;
