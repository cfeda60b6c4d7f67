import type { CommandHost } from '../command-host';
import { CommandDef, command } from '../command';
import { intArg, keyArg, word } from '../args';
import { invalidExpireTime } from '../errors';
import { ONE, RedisError, ZERO, int } from '../reply';
import { boolOf, entryOf, read } from './results';

const MAX_MS = BigInt(Number.MAX_SAFE_INTEGER);

type Condition = 'nx' | 'xx' | 'gt' | 'lt';

interface ExpireRequest {
  key: string;
  /** Relative (EXPIRE, PEXPIRE) or absolute (…AT) ms. */
  ms: bigint;
  condition?: Condition;
}

/** EXPIRE's NX/XX/GT/LT, with Redis's words for the combinations it refuses. */
function conditionOf(args: readonly Buffer[]): Condition | undefined {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (const arg of args) {
    const option = word(arg);
    if (option === 'nx') nx = true;
    else if (option === 'xx') xx = true;
    else if (option === 'gt') gt = true;
    else if (option === 'lt') lt = true;
    else throw new RedisError(`ERR Unsupported option ${arg.toString('latin1').slice(0, 128)}`);
  }
  if (nx && (xx || gt || lt)) throw new RedisError('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) throw new RedisError('ERR GT and LT options at the same time are not compatible');
  return nx ? 'nx' : xx ? 'xx' : gt ? 'gt' : lt ? 'lt' : undefined;
}

export function expiryCommands(engine: CommandHost): CommandDef<any>[] {
  void engine;
  const setters = [
    { name: 'expire', unit: 1000n, absolute: false },
    { name: 'pexpire', unit: 1n, absolute: false },
    { name: 'expireat', unit: 1000n, absolute: true },
    { name: 'pexpireat', unit: 1n, absolute: true },
  ] as const;
  const getters = [
    { name: 'ttl', ms: false, absolute: false },
    { name: 'pttl', ms: true, absolute: false },
    { name: 'expiretime', ms: false, absolute: true },
    { name: 'pexpiretime', ms: true, absolute: true },
  ] as const;
  return [
    ...setters.map(({ name, unit, absolute }) =>
      command<ExpireRequest>({
        name,
        parse: (args) => {
          const key = keyArg(args[0]);
          const n = intArg(args[1]);
          const ms = n * unit;
          if (ms > MAX_MS || ms < -MAX_MS) throw new RedisError(invalidExpireTime(name));
          return { key, ms, condition: conditionOf(args.slice(2)) };
        },
        plan: ({ key, ms, condition }, env) => {
          const at = absolute ? ms : BigInt(env.now) + ms;
          if (at > MAX_MS) throw new RedisError(invalidExpireTime(name));
          // At or before now deletes the key (as in Redis); 0 would mean "no expiry", so the past is 1.
          const when = at < 1n ? 1 : Number(at);
          return { ops: [{ op: 'expire', key, at: when, ...(condition ? { condition } : {}) }], reply: ([r]) => (boolOf(r) ? ONE : ZERO) };
        },
      }),
    ),
    ...getters.map(({ name, ms, absolute }) =>
      command<string>({
        name,
        parse: (args) => keyArg(args[0]),
        plan: (key, env) => ({
          ops: [read(key)],
          reply: ([r]) => {
            const entry = entryOf(r);
            if (entry === null) return int(-2);
            if (entry.expiresAt === 0) return int(-1);
            const left = Math.max(0, absolute ? entry.expiresAt : entry.expiresAt - env.now);
            return int(ms ? left : Math.floor((left + 500) / 1000));
          },
        }),
      }),
    ),
    command<string>({
      name: 'persist',
      parse: (args) => keyArg(args[0]),
      plan: (key) => ({ ops: [{ op: 'expire', key, at: 0 }], reply: ([r]) => (boolOf(r) ? ONE : ZERO) }),
    }),
  ];
}
