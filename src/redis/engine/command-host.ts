import type { KeyOperation, OperationResult } from '../../domain';
import type { Reply } from '../../entities/cache-entity';
import type { CommandDef, EngineAuth, EngineGateway, EngineHistory, Env, Plan, ServerFacts } from './command';
import type { KeyspaceNotifier } from './keyspace-notifications';
import type { Outcome, Pending } from './outcome';
import type { RedisReply } from './reply';
import type { Session } from './session';

/** An ApplyOperations reply: one result per op, or `aborted` when a watched key changed. */
export type OpsReply = Reply & { readonly results?: readonly OperationResult[]; readonly aborted?: boolean };

/**
 * What the command families use of the engine that registers them (the RedisEngine is one):
 * declared here so that each family's file and the engine do not import each other.
 */
export interface CommandHost {
  readonly gateway: EngineGateway;
  readonly auth: EngineAuth;
  readonly facts: ServerFacts;
  readonly history?: EngineHistory;
  readonly notifier: KeyspaceNotifier;
  readonly sessions: ReadonlySet<Session>;
  readonly supported: ReadonlyMap<string, CommandDef<any>>;
  /** Runs a command's plan: its reads on committed state, its writes as one ApplyOperations. */
  runPlan(plan: Plan, env: Env): Outcome;
  /** Sends key operations as one ApplyOperations; the reply goes out once they are durable. */
  write(
    env: Env,
    ops: readonly KeyOperation[],
    watch: Array<{ key: string; version: number | null }> | undefined,
    answer: (reply: OpsReply) => RedisReply,
    whenAborted?: RedisReply,
  ): Pending;
  /** Reads on committed state: synchronous when the cache's entity is ready. */
  readNow<T>(ops: readonly KeyOperation[], env: Env, answer: (results: readonly OperationResult[]) => T): T | { promise: Promise<T>; barrier: true };
}
