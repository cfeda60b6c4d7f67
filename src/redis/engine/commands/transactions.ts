import type { OperationResult } from '../../../domain';
import type { CommandHost } from '../command-host';
import { errorReply } from '../outcome';
import { CommandDef, Plan, command } from '../command';
import { keyArg } from '../args';
import { ERR } from '../errors';
import { NULL_ARRAY, OK, RedisError, RedisReply, array } from '../reply';
import { entryOf, read } from './results';

/** One queued command at EXEC: its plan, a reply it already has (a session command, an error), or both absent. */
type Item = { readonly plan: Plan; readonly from: number } | { readonly reply: RedisReply };

/**
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH. EXEC turns the queue into one ApplyOperations (the
 * queued commands' operations in order, the watched keys' versions as its `watch`): one
 * journaled append, all or none after a crash, and decided on one draft, so each command
 * sees the ones before it. A transaction that only reads runs on committed state at once.
 */
export function transactionCommands(engine: CommandHost): CommandDef<any>[] {
  return [
    command<void>({
      name: 'multi',
      transactionControl: true,
      sessionOnly: true,
      parse: () => undefined,
      run: (_request, env) => {
        if (env.session.multi !== null) throw new RedisError(ERR.nestedMulti);
        env.session.multi = [];
        env.session.multiDirty = false;
        return OK;
      },
    }),
    command<void>({
      name: 'discard',
      transactionControl: true,
      sessionOnly: true,
      parse: () => undefined,
      run: (_request, env) => {
        if (env.session.multi === null) throw new RedisError(ERR.discardWithoutMulti);
        env.session.endTransaction();
        return OK;
      },
    }),
    command<void>({
      name: 'unwatch',
      sessionOnly: true,
      parse: () => undefined,
      run: (_request, env) => {
        env.session.watched = [];
        return OK;
      },
    }),
    command<string[]>({
      name: 'watch',
      transactionControl: true,
      parse: (args) => args.map(keyArg),
      run: (keys, env) => {
        const session = env.session;
        if (session.multi !== null) throw new RedisError(ERR.watchInMulti);
        const cache = env.cache;
        return engine.runPlan(
          {
            ops: keys.map(read),
            reply: (results) => {
              results.forEach((r, i) => session.watched.push({ cache, key: keys[i], version: entryOf(r)?.version ?? null }));
              return OK;
            },
          },
          env,
        );
      },
    }),
    command<void>({
      name: 'exec',
      transactionControl: true,
      sessionOnly: true,
      parse: () => undefined,
      run: (_request, env) => {
        const session = env.session;
        if (session.multi === null) throw new RedisError(ERR.execWithoutMulti);
        const queued = session.multi;
        const dirty = session.multiDirty;
        const watched = session.watched;
        session.endTransaction();
        if (dirty) throw new RedisError(ERR.execAbort);
        if (watched.some((w) => w.cache !== env.cache)) {
          throw new RedisError('ERR WATCH of keys in another database than EXEC\'s is not supported by cachelog (see docs/redis.md)');
        }
        const items: Item[] = [];
        const ops: Plan['ops'][number][] = [];
        for (const { name, args } of queued) {
          const def = engine.supported.get(name)!;
          try {
            const request = def.parse(args, session);
            if (def.plan !== undefined) {
              const plan = def.plan(request, env);
              items.push({ plan, from: ops.length });
              ops.push(...plan.ops);
            } else {
              // Session commands (PING, ECHO, UNWATCH...) answer at once.
              const reply = def.run!(request, env);
              items.push({ reply: reply instanceof Promise || 'promise' in reply ? errorReply(new RedisError(ERR.notSupportedHere)) : reply });
            }
          } catch (caught) {
            items.push({ reply: errorReply(caught) });
          }
        }
        const assemble = (results: readonly OperationResult[]): RedisReply =>
          array(
            items.map((item) => {
              if ('reply' in item) return item.reply;
              try {
                return item.plan.reply(results.slice(item.from, item.from + item.plan.ops.length));
              } catch (caught) {
                return errorReply(caught);
              }
            }),
          );
        const watch = watched.map(({ key, version }) => ({ key, version }));
        if (ops.some((op) => op.op !== 'read' && op.op !== 'keys')) {
          return engine.write(env, ops, watch.length > 0 ? watch : undefined, (reply) => assemble(reply.results!));
        }
        // Reads only: on committed state, the watched keys read in the same step.
        const checks = watch.map(({ key }) => read(key));
        return engine.runPlan(
          {
            ops: [...ops, ...checks],
            reply: (results) => {
              const seen = results.slice(ops.length);
              for (let i = 0; i < watch.length; i++) {
                const entry = seen[i].ok ? (seen[i] as { value: { version: number } | null }).value : null;
                if ((entry?.version ?? null) !== watch[i].version) return NULL_ARRAY;
              }
              return assemble(results.slice(0, ops.length));
            },
          },
          env,
        );
      },
    }),
  ];
}
