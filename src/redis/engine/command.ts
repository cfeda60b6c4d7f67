import type { Principal } from '../../auth/principal';
import type { RequestContext } from '../../core/request-context';
import type { CacheCommand, CacheState, Entry, KeyOperation, OperationResult } from '../../domain';
import type { Reply } from '../../entities/cache-entity';
import type { RedisReply } from './reply';
import type { Session } from './session';
import type { Pending } from './outcome';

/**
 * What the engine needs of the core (CacheGateway has exactly these): commands through the
 * admission list, and reads of committed state (synchronous when the cache's entity is ready).
 */
export interface EngineGateway {
  ask(ctx: RequestContext, cacheName: string, command: CacheCommand): Promise<Reply>;
  stateNow(ctx: RequestContext, cacheName: string): CacheState | Promise<CacheState>;
  useEntryNow(ctx: RequestContext, cacheName: string, key: string): Entry | undefined | Promise<Entry | undefined>;
  cacheNames(ctx: RequestContext): Promise<ReadonlyArray<{ readonly cacheName: string; readonly deleted?: boolean }>>;
  now(): number;
}

/** Verifies a token (the JWTs of every family); throws when it is refused or has expired. */
export interface EngineAuth {
  verify(token: string): Principal;
}

/** Counts one command against the principal's rate limit; throws an error with code RATE_LIMITED beyond it. */
export interface EngineRateLimiter {
  admit(principal: Principal): void;
}

/** One journaled event of a cache, as the history commands show it. */
export interface HistoryEvent {
  readonly seq: number;
  readonly type: string;
  /** ISO 8601. */
  readonly time: string;
  readonly by: string;
  readonly device: string | null;
  readonly key?: string;
  readonly value?: Uint8Array;
  /** ISO 8601, or null for none; absent when the event does not set one. */
  readonly expiresAt?: string | null;
}

/** The caches' history (the event log), for the cachelog-only commands. */
export interface EngineHistory {
  /** A key's live value as it was at a point: `at` a sequence number or `asOf` an ISO time (a refusal throws a coded error). */
  valueAt(ctx: RequestContext, cacheName: string, key: string, point: { at: string } | { asOf: string }): Promise<Uint8Array | undefined>;
  /** The cache's events from sequence `from`, at most `limit`. */
  events(ctx: RequestContext, cacheName: string, from: number, limit: number): Promise<{ events: readonly HistoryEvent[]; next: number; hasMore: boolean }>;
}

/** Figures for INFO and CLIENT, from the process and the transport. */
export interface ServerFacts {
  readonly version: string;
  readonly port: number;
  readonly tls: boolean;
  readonly startedAt: number;
  readonly maxValueBytes: number;
  /** The largest reply (MAX_RESPONSE_BYTES), measured before it is encoded. */
  readonly maxResponseBytes: number;
  /** Connections the transport holds now and has refused, and commands it has run. */
  stats(): { connections: number; totalConnections: number; rejectedConnections: number; commands: number; inputBytes: number; outputBytes: number };
}

/** What a command's execution sees: who asks, in which cache, at which time. */
export interface Env {
  readonly session: Session;
  readonly ctx: RequestContext;
  readonly cache: string;
  readonly now: number;
  readonly gateway: EngineGateway;
  readonly facts: ServerFacts;
  /** Every open session (CLIENT LIST filters it by org). */
  readonly sessions: ReadonlySet<Session>;
}

/**
 * A data command as key operations: run on the committed state when they only read (outside
 * MULTI), else as one `ApplyOperations`; inside MULTI, the queue's plans become one.
 */
export interface Plan {
  readonly ops: readonly KeyOperation[];
  /** The reply from the ops' results (one per op, in order). */
  reply(results: readonly OperationResult[]): RedisReply;
}

/**
 * One Redis command: `parse` turns its arguments (without the name) into a typed request,
 * finding every syntax error (thrown as RedisError); then either `plan` (a data command:
 * key operations and a reply from their results) or `run` (everything else).
 */
export interface CommandDef<R = unknown> {
  readonly name: string;
  /** Answers before AUTH (AUTH, HELLO, QUIT). */
  readonly noAuth?: boolean;
  /** May not be queued by MULTI (its reply would need more than key operations); the reason is the error text. */
  readonly notInMulti?: string;
  /** Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
  readonly transactionControl?: boolean;
  /** Answers from the session alone, no cache read: never waits for this session's pending writes. */
  readonly sessionOnly?: boolean;
  parse(args: readonly Buffer[], session: Session): R;
  plan?(request: R, env: Env): Plan;
  run?(request: R, env: Env): RedisReply | Promise<RedisReply> | Pending;
}

export const command = <R>(def: CommandDef<R>): CommandDef<R> => def;
