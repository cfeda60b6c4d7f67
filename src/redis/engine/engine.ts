import { requestContext, RequestContext } from '../../core/request-context';
import { CacheState, KeyOperation, OperationResult, liveEntry, liveKeys } from '../../domain';
import { CommandDef, EngineAuth, EngineGateway, EngineHistory, EngineRateLimiter, Env, Plan, ServerFacts } from './command';
import { ERR, domainErrorText, noPermission, oneLine, unknownCommand, wrongArity } from './errors';
import { NULL_ARRAY, QUEUED, RedisError, RedisReply, array, error, replyBytes } from './reply';
import { Session } from './session';
import { connectionCommands } from './commands/connection';
import { serverCommands } from './commands/server';
import { stringCommands } from './commands/strings';
import { keyCommands } from './commands/keys';
import { expiryCommands } from './commands/expiry';
import { transactionCommands } from './commands/transactions';
import { pubsubCommands } from './commands/pubsub';
import { cachelogCommands } from './commands/cachelog';
import { CommittedEventFeed, KeyspaceNotifier } from './keyspace-notifications';
import { COMMAND_TABLE } from './command-table';
import { Outcome, Pending, errorReply, isPending, settle } from './outcome';
import type { CommandHost, OpsReply } from './command-host';

export { COMMAND_TABLE } from './command-table';
export type { TableEntry } from './command-table';
export { errorReply, isPending, settle } from './outcome';
export type { Outcome, Pending } from './outcome';



const MAX_NAME_BYTES = 64;

/** What a RESP2 connection may send while subscribed (Redis's list). */
const SUBSCRIBED_CONTEXT = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ping', 'quit', 'reset', 'cachelog.subscribe', 'cachelog.unsubscribe']);

/**
 * The Redis command engine, transport-free: arguments in, replies out. A transport (the RESP
 * listener, the Upstash-style HTTP family) gives each client a Session and calls `execute`
 * with each command's arguments in order; it writes the outcomes in the same order. A write
 * answers a Pending that does not hold up the next command (writes of a pipeline reach the
 * entity together and group-commit); a read waits for the session's pending writes, so it
 * sees them, and holds up the next command until it has answered.
 */
export class RedisEngine implements CommandHost {
  readonly sessions = new Set<Session>();
  readonly notifier: KeyspaceNotifier;
  private readonly commands = new Map<string, CommandDef<any>>();

  constructor(
    readonly gateway: EngineGateway,
    readonly auth: EngineAuth,
    private readonly limiter: EngineRateLimiter,
    readonly facts: ServerFacts,
    /** The committed events, live, for keyspace notifications; absent: none are sent. */
    feed?: CommittedEventFeed,
    /** The event log, for the cachelog-only history commands; absent: they answer an error. */
    readonly history?: EngineHistory,
  ) {
    this.notifier = new KeyspaceNotifier(feed);
    for (const def of [
      ...connectionCommands(this),
      ...serverCommands(this),
      ...stringCommands(this),
      ...keyCommands(this),
      ...expiryCommands(this),
      ...transactionCommands(this),
      ...pubsubCommands(this),
      ...cachelogCommands(this),
    ]) {
      if (COMMAND_TABLE[def.name] === undefined) throw new Error(`${def.name} is not in Redis's command table`);
      this.commands.set(def.name, def);
    }
  }

  /** The commands this engine answers, by name (COMMAND lists them). */
  get supported(): ReadonlyMap<string, CommandDef<any>> {
    return this.commands;
  }

  open(session: Session): void {
    this.sessions.add(session);
  }

  close(session: Session): void {
    this.sessions.delete(session);
    session.endTransaction();
    session.channels.clear();
    session.patterns.clear();
    session.streams.clear();
    this.notifier.update(session);
  }

  /** Runs one command (its name first). Never throws: every failure is an error reply. */
  execute(session: Session, args: readonly Buffer[]): Outcome {
    let outcome: Outcome;
    try {
      outcome = this.dispatch(session, args);
    } catch (caught) {
      return errorReply(caught);
    }
    if (!isPending(outcome)) return this.bounded(outcome);
    return { promise: outcome.promise.then((reply) => this.bounded(reply)), barrier: outcome.barrier };
  }

  /** A reply larger than MAX_RESPONSE_BYTES is refused before it is encoded (MGET, KEYS, SCAN of big caches or values). */
  private bounded(reply: RedisReply): RedisReply {
    if ((reply.t === 'array' || reply.t === 'map') && replyBytes(reply) > this.facts.maxResponseBytes) {
      return error(`ERR the reply would be larger than MAX_RESPONSE_BYTES (${this.facts.maxResponseBytes}); ask for fewer keys or values at a time`);
    }
    return reply;
  }

  private dispatch(session: Session, args: readonly Buffer[]): Outcome {
    const now = this.gateway.now();
    session.lastActive = now;
    session.commands++;
    const name = args[0].length > MAX_NAME_BYTES ? args[0].subarray(0, MAX_NAME_BYTES).toString('latin1') : args[0].toString('latin1').toLowerCase();
    const rest = args.slice(1);
    const def = this.commands.get(name);
    if (def === undefined) return this.refuseInMulti(session, unknownCommand(args[0].toString('latin1'), rest));
    session.lastCommand = name;
    const table = COMMAND_TABLE[name];
    if ((table.arity > 0 && args.length !== table.arity) || (table.arity < 0 && args.length < -table.arity)) {
      return this.refuseInMulti(session, wrongArity(name));
    }
    if (!def.noAuth && !this.stillAuthenticated(session)) return this.refuseInMulti(session, ERR.noAuth);
    if (session.resp === 2 && session.subscriptions > 0 && !SUBSCRIBED_CONTEXT.has(name)) {
      return error(`ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    }
    if (session.principal?.readOnly && table.flags.includes('write')) return this.refuseInMulti(session, noPermission(name));
    if (session.multi !== null && !def.transactionControl) return this.queue(session, def, rest);
    if (session.prepaid > 0) session.prepaid--;
    else if (session.principal !== null) this.limiter.admit(session.principal);
    const request = def.parse(rest, session);
    const env = this.env(session, now);
    if (def.plan !== undefined) return this.runPlan(def.plan(request, env), env);
    if (def.sessionOnly || session.pendingWrites.size === 0) return outcomeOf(def.run!(request, env));
    return { promise: this.afterWrites(session).then(() => settle(outcomeOf(def.run!(request, { ...env, now: this.gateway.now() })))).catch(errorReply), barrier: true };
  }

  env(session: Session, now: number): Env {
    const ctx: RequestContext = session.principal === null ? (undefined as never) : requestContext(session.principal, session.family, session.name || null);
    return { session, ctx, cache: session.db, now, gateway: this.gateway, facts: this.facts, sessions: this.sessions };
  }

  /** A token is honoured until its `exp`: checked on every command (a cache hit in AuthService). */
  private stillAuthenticated(session: Session): boolean {
    if (session.principal === null || session.token === null) return false;
    try {
      this.auth.verify(session.token);
      return true;
    } catch {
      session.principal = null;
      session.token = null;
      return false;
    }
  }

  /** An error for a command that cannot even be queued: inside MULTI it dooms the transaction (EXECABORT). */
  private refuseInMulti(session: Session, text: string): RedisReply {
    if (session.multi !== null) session.multiDirty = true;
    return error(text);
  }

  private queue(session: Session, def: CommandDef<any>, args: readonly Buffer[]): RedisReply {
    if (def.notInMulti !== undefined) return this.refuseInMulti(session, def.notInMulti);
    if (def.plan === undefined && !def.sessionOnly) return this.refuseInMulti(session, ERR.notSupportedHere);
    // As in Redis, only the name and arity are checked when queued; a syntax error answers in EXEC's reply.
    session.multi!.push({ name: def.name, args: [...args] });
    return QUEUED;
  }

  /** Waits until the session's writes sent so far are durable (or failed). */
  afterWrites(session: Session): Promise<unknown> {
    return Promise.allSettled([...session.pendingWrites]);
  }

  /** Runs a data command's plan: on committed state when it only reads, else as one ApplyOperations. */
  runPlan(plan: Plan, env: Env): Outcome {
    if (plan.ops.every(isRead)) {
      if (env.session.pendingWrites.size > 0) {
        return { promise: this.afterWrites(env.session).then(() => settle(this.readOutcome(plan, { ...env, now: this.gateway.now() }))).catch(errorReply), barrier: true };
      }
      return this.readOutcome(plan, env);
    }
    return this.write(env, plan.ops, undefined, (reply) => plan.reply(reply.results!));
  }

  /** A read as an outcome: a reply, or a promise of one that holds up the next command. */
  private readOutcome(plan: Plan, env: Env): Outcome {
    const result = this.readNow(plan.ops, env, plan.reply);
    return isPending(result) ? { promise: result.promise.catch(errorReply), barrier: true } : result;
  }

  /** Sends key operations as one ApplyOperations; the reply goes out once they are durable. */
  write(
    env: Env,
    ops: readonly KeyOperation[],
    watch: Array<{ key: string; version: number | null }> | undefined,
    answer: (reply: OpsReply) => RedisReply,
    whenAborted: RedisReply = NULL_ARRAY,
  ): Pending {
    const sent = this.gateway.ask(env.ctx, env.cache, { type: 'ApplyOperations', by: env.ctx.principal.name, device: env.ctx.device, ops, ...(watch ? { watch } : {}) });
    const pending = env.session.pendingWrites;
    pending.add(sent);
    const promise = sent.then(
      (reply: OpsReply) => {
        pending.delete(sent);
        if (!reply.ok) return errorReply(reply.error);
        const last = reply.envelopes[reply.envelopes.length - 1];
        if (last !== undefined && last.seq > env.session.lastWriteSeq) env.session.lastWriteSeq = last.seq;
        if (reply.aborted) return whenAborted;
        if (reply.results === undefined || reply.results.length !== ops.length) return error('ERR the cache did not answer every operation; nothing more is known');
        try {
          return answer(reply);
        } catch (caught) {
          return errorReply(caught);
        }
      },
      (caught: unknown) => {
        pending.delete(sent);
        return errorReply(caught);
      },
    );
    return { promise, barrier: false };
  }

  /**
   * Reads on committed state: synchronous when the cache's entity is ready. `read` counts as
   * use for the LRU, as a native GET does.
   */
  readNow<T>(ops: readonly KeyOperation[], env: Env, answer: (results: readonly OperationResult[]) => T): T | { promise: Promise<T>; barrier: true } {
    const state = this.gateway.stateNow(env.ctx, env.cache);
    // A cache that is not live is answered from its read-model row and loads no entity: its
    // state stays a promise on every call, so the state it resolves to is the one read.
    if (state instanceof Promise) return { promise: state.then((resolved) => this.readFrom(resolved, ops, env, answer)), barrier: true };
    return this.readFrom(state, ops, env, answer);
  }

  private readFrom<T>(state: CacheState, ops: readonly KeyOperation[], env: Env, answer: (results: readonly OperationResult[]) => T): T {
    const results: OperationResult[] = [];
    for (const op of ops) {
      if (op.op === 'keys') {
        results.push({ ok: true, value: [...liveKeys(state, env.now)] });
      } else if (op.op === 'read') {
        // A hit counts as use (LRU) through the entity when it is loaded and ready; else the state as read.
        const used = state.status === 'live' ? this.gateway.useEntryNow(env.ctx, env.cache, op.key) : undefined;
        const entry = used instanceof Promise ? liveEntry(state, op.key, env.now) : used;
        results.push({ ok: true, value: entry ?? null });
      }
    }
    return answer(results);
  }
}

const isRead = (op: KeyOperation): boolean => op.op === 'read' || op.op === 'keys';

/** A run's result as an outcome: a promise holds up the session's next command. */
function outcomeOf(result: RedisReply | Promise<RedisReply> | Pending): Outcome {
  return result instanceof Promise ? { promise: result.catch(errorReply), barrier: true } : result;
}


export { array };
