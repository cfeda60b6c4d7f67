import { GiB, MiB, Values, flag, namespace, seconds, setting, wholeNumber } from './settings';

/** What one org, one value and one command may hold or cost, in every API family. */
export const limitsSettings = namespace('limits', {
  maxValueBytes: setting('MAX_VALUE_BYTES', wholeNumber(0, 1), 'largest value (413 beyond)', {
    derivedDefault: '4194304, or 983040 with JOURNAL=nats (an event is one NATS message; servers take 1 MiB by default)',
  }),
  orgQuotaEnabled: setting('ENABLE_ORG_SERVICE_LEVEL_SAAS', flag(false), "enforce the per-org byte quota by the token's serviceLevel"),
  /** Byte quota per org, by the token's `serviceLevel`. */
  serviceLevelMaxBytes: {
    free: setting('FREE_SERVICE_LEVEL_MAX_BYTES', wholeNumber(3 * GiB, 0), 'quota of the free service level (also used for unknown levels)'),
  },
  entityIdleMs: setting('ENTITY_IDLE_SECONDS', seconds(600, 1), 'a cache idle this long is passivated (its memory freed)'),
  maxEntitiesPerOrg: setting('MAX_ENTITIES_PER_ORG', wholeNumber(2000, 1), "caches one org may have loaded in memory; one more passivates the org's least recently used idle one"),
  maxCachesPerOrg: setting('MAX_CACHES_PER_ORG', wholeNumber(10_000, 1), 'live caches an org may have; creating one more is refused (409 CACHE_LIMIT_REACHED)'),
  /** Journal bytes one org may hold; 0: derived from its byte quota when quotas are on (core.module.ts), else none. */
  orgDiskBudgetBytes: setting('ORG_DISK_BUDGET_BYTES', wholeNumber(0, 0), 'journal bytes one org may hold (400 DISK_BUDGET_EXCEEDED beyond; deletions pass)'),
  /** Journal bytes of all orgs together; 0: none. */
  diskBudgetBytes: setting('DISK_BUDGET_BYTES', wholeNumber(0, 0), 'journal bytes of all orgs together (0: none)'),
  /** Bytes of answers handed to sockets and not yet taken by their clients (src/core/answer-budget.ts). */
  answers: {
    connectionBytes: setting('ANSWER_QUEUE_CONNECTION_BYTES', wholeNumber(MiB, 64 * 1024), 'answer bytes one connection may hold unread before it produces no more answers until its client reads'),
    orgBytes: setting('ANSWER_QUEUE_ORG_BYTES', wholeNumber(128 * MiB, MiB), "answer bytes an org's connections may hold unread in all (429 ANSWER_QUEUE_FULL beyond; RESP: its commands wait)"),
    drainTimeoutMs: setting('ANSWER_DRAIN_TIMEOUT_SECONDS', seconds(10, 1), 'a connection over its share, or of an org over its share, whose client reads none of its answers this long is closed'),
  },
  edge: {
    maxEventsPerCommand: setting('MAX_EVENTS_PER_COMMAND', wholeNumber(50_000, 1), 'events one command may append: one write, one pause of the event loop (409 TOO_MANY_EVENTS beyond)'),
  },
});

/** MAX_VALUE_BYTES' default depends on the journal: with NATS an event is one message (1 MiB by default). */
export function limitsConfig(values: Values<typeof limitsSettings.declaration>, journal: 'leveldb' | 'memory' | 'nats') {
  return {
    ...values,
    maxValueBytes: values.maxValueBytes || (journal === 'nats' ? 960 * 1024 : 4 * MiB),
    serviceLevelMaxBytes: values.serviceLevelMaxBytes as Readonly<Record<string, number>>,
  };
}

export type LimitsConfig = ReturnType<typeof limitsConfig>;
