export interface TableEntry {
  readonly arity: number;
  readonly flags: readonly string[];
  readonly keyStart: number;
  readonly keyStop: number;
  readonly step: number;
}

/**
 * Redis's command table (arity, flags, key positions), as @ioredis/commands ships it, plus the
 * cachelog-only commands (named `cachelog.*`, as Redis modules name theirs).
 */
export const COMMAND_TABLE: Readonly<Record<string, TableEntry>> = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ...(require('@ioredis/commands/built/commands.json') as Record<string, TableEntry>),
  'cachelog.getat': { arity: 4, flags: ['readonly'], keyStart: 1, keyStop: 1, step: 1 },
  'cachelog.versions': { arity: -2, flags: ['readonly'], keyStart: 1, keyStop: 1, step: 1 },
  'cachelog.subscribe': { arity: -2, flags: ['pubsub', 'noscript', 'loading', 'stale'], keyStart: 0, keyStop: 0, step: 0 },
  'cachelog.unsubscribe': { arity: -1, flags: ['pubsub', 'noscript', 'loading', 'stale'], keyStart: 0, keyStop: 0, step: 0 },
};
