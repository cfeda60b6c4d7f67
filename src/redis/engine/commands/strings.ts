import type { ExpiryChoice } from '../../../domain';
import type { CommandHost } from '../command-host';
import { CommandDef, Plan, command } from '../command';
import { intArg, keyArg, parseFloat64, safeIntArg, word } from '../args';
import { ERR, invalidExpireTime, wrongArity } from '../errors';
import { NULL, OK, ONE, RedisError, ZERO, array, bulk, bulkOrNull, int, text } from '../reply';
import { DEFAULT_EXPIRY, entryOf, numberOf, read, setOp, setResultOf, valueOf } from './results';

/** The largest expiry time in ms the engine takes: beyond it JS numbers stop being exact. */
const MAX_MS = Number.MAX_SAFE_INTEGER;

/** What an expiry option asked for, resolved to an absolute time when the command runs. */
export type ExpiryOption = { kind: 'in'; ms: number } | { kind: 'at'; ms: number } | { kind: 'keep' } | { kind: 'persist' };

/** Parses `EX|PX|EXAT|PXAT <n>`'s number: an integer > 0 (Redis's "invalid expire time" otherwise). */
export function expiryNumber(option: string, raw: Buffer, commandName: string): ExpiryOption {
  const n = intArg(raw);
  if (n <= 0n) throw new RedisError(invalidExpireTime(commandName));
  const ms = option === 'ex' || option === 'exat' ? n * 1000n : n;
  if (ms > BigInt(MAX_MS)) throw new RedisError(invalidExpireTime(commandName));
  return option === 'ex' || option === 'px' ? { kind: 'in', ms: Number(ms) } : { kind: 'at', ms: Number(ms) };
}

/** The absolute expiry of an option at `now` (a time at or before now deletes the key, as in Redis). */
export function absoluteExpiry(option: ExpiryOption, now: number, commandName: string): number {
  if (option.kind === 'in') {
    const at = now + option.ms;
    if (at > MAX_MS) throw new RedisError(invalidExpireTime(commandName));
    return at;
  }
  if (option.kind === 'at') return option.ms;
  return 0;
}

function expiryChoice(option: ExpiryOption | undefined, now: number, commandName: string): ExpiryChoice {
  if (option === undefined) return DEFAULT_EXPIRY;
  if (option.kind === 'keep') return { kind: 'keep' };
  if (option.kind === 'persist') return { kind: 'none' };
  return { kind: 'at', at: absoluteExpiry(option, now, commandName) };
}

interface SetRequest {
  key: string;
  value: Buffer;
  when: 'always' | 'absent' | 'present';
  get: boolean;
  expiry?: ExpiryOption;
}

function parseSet(args: readonly Buffer[]): SetRequest {
  const request: SetRequest = { key: keyArg(args[0]), value: args[1], when: 'always', get: false };
  for (let i = 2; i < args.length; i++) {
    const option = word(args[i]);
    const hasNext = i + 1 < args.length;
    if (option === 'nx' && request.when === 'always') request.when = 'absent';
    else if (option === 'xx' && request.when === 'always') request.when = 'present';
    else if (option === 'get' && !request.get) request.get = true;
    else if (option === 'keepttl' && request.expiry === undefined) request.expiry = { kind: 'keep' };
    else if ((option === 'ex' || option === 'px' || option === 'exat' || option === 'pxat') && request.expiry === undefined && hasNext) {
      request.expiry = expiryNumber(option, args[++i], 'set');
    } else throw new RedisError(ERR.syntax);
  }
  return request;
}

const INT64_MIN = -(2n ** 63n);

/** GETRANGE's and BITCOUNT's index rules: negative from the end, clamped, inclusive. */
function range(start: bigint, end: bigint, length: number): [number, number] | undefined {
  const len = BigInt(length);
  if (start < 0n) start += len;
  if (end < 0n) end += len;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (start > end || length === 0) return undefined;
  return [Number(start), Number(end)];
}

function popcount(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i <= to; i++) {
    let b = bytes[i];
    b = b - ((b >> 1) & 0x55);
    b = (b & 0x33) + ((b >> 2) & 0x33);
    count += (b + (b >> 4)) & 0x0f;
  }
  return count;
}

export function stringCommands(engine: CommandHost): CommandDef<any>[] {
  const limits = { maxValueBytes: engine.facts.maxValueBytes };
  const tooLarge = () => new RedisError(`ERR string exceeds maximum allowed size (MAX_VALUE_BYTES ${limits.maxValueBytes})`);
  const incrBy = (key: string, amount: bigint): Plan => ({
    ops: [{ op: 'incrBy', key, amount }],
    reply: ([r]) => int(valueOf(r) as bigint),
  });
  return [
    command<string>({
      name: 'get',
      parse: (args) => keyArg(args[0]),
      plan: (key) => ({ ops: [read(key)], reply: ([r]) => bulkOrNull(entryOf(r)?.value) }),
    }),
    command<SetRequest>({
      name: 'set',
      parse: parseSet,
      plan: (request, env) => ({
        ops: [setOp(request.key, request.value, expiryChoice(request.expiry, env.now, 'set'), request.when)],
        reply: ([r]) => {
          const result = setResultOf(r);
          if (request.get) return bulkOrNull(result.previous?.value);
          return result.applied ? OK : NULL;
        },
      }),
    }),
    command<[string, Buffer]>({
      name: 'setnx',
      parse: (args) => [keyArg(args[0]), args[1]],
      plan: ([key, value]) => ({ ops: [setOp(key, value, DEFAULT_EXPIRY, 'absent')], reply: ([r]) => (setResultOf(r).applied ? ONE : ZERO) }),
    }),
    ...(['setex', 'psetex'] as const).map((name) =>
      command<[string, ExpiryOption, Buffer]>({
        name,
        parse: (args) => [keyArg(args[0]), expiryNumber(name === 'setex' ? 'ex' : 'px', args[1], name), args[2]],
        plan: ([key, expiry, value], env) => ({
          ops: [setOp(key, value, expiryChoice(expiry, env.now, name))],
          reply: ([r]) => (setResultOf(r), OK),
        }),
      }),
    ),
    command<string[]>({
      name: 'mget',
      parse: (args) => args.map(keyArg),
      plan: (keys) => ({ ops: keys.map(read), reply: (results) => array(results.map((r) => bulkOrNull(entryOf(r)?.value))) }),
    }),
    command<Array<[string, Buffer]>>({
      name: 'mset',
      parse: (args) => pairs(args, 'mset'),
      plan: (pairs) => ({
        ops: pairs.map(([key, value]) => setOp(key, value)),
        reply: (results) => {
          for (const r of results) valueOf(r);
          return OK;
        },
      }),
    }),
    command<Array<[string, Buffer]>>({
      name: 'msetnx',
      notInMulti: 'ERR MSETNX inside MULTI is not supported by cachelog (see docs/redis.md)',
      parse: (args) => pairs(args, 'msetnx'),
      // All or nothing: the keys' absence is checked on committed state and sent as WATCHes,
      // so a key created between the check and the write makes it set nothing (answers 0).
      run: (pairs, env) => {
        const keys = pairs.map(([key]) => key);
        const decide = (anyExists: boolean) => {
          if (anyExists) return ZERO;
          const watch = keys.map((key) => ({ key, version: null }));
          const ops = pairs.map(([key, value]) => setOp(key, value));
          return engine.write(env, ops, watch, (reply) => (reply.results!.forEach(valueOf), ONE), ZERO).promise;
        };
        const checked = engine.readNow(keys.map(read), env, (results) => results.some((r) => entryOf(r) !== null));
        return typeof checked === 'boolean' ? decide(checked) : checked.promise.then(decide);
      },
    }),
    command<[string, Buffer]>({
      name: 'getset',
      parse: (args) => [keyArg(args[0]), args[1]],
      plan: ([key, value]) => ({ ops: [setOp(key, value)], reply: ([r]) => bulkOrNull(setResultOf(r).previous?.value) }),
    }),
    command<string>({
      name: 'getdel',
      parse: (args) => keyArg(args[0]),
      plan: (key) => ({
        ops: [read(key), { op: 'delete', key }],
        reply: ([r, d]) => {
          valueOf(d);
          return bulkOrNull(entryOf(r)?.value);
        },
      }),
    }),
    command<{ key: string; expiry?: ExpiryOption }>({
      name: 'getex',
      parse: (args) => {
        const request: { key: string; expiry?: ExpiryOption } = { key: keyArg(args[0]) };
        for (let i = 1; i < args.length; i++) {
          const option = word(args[i]);
          if ((option === 'ex' || option === 'px' || option === 'exat' || option === 'pxat') && request.expiry === undefined && i + 1 < args.length) {
            request.expiry = expiryNumber(option, args[++i], 'getex');
          } else if (option === 'persist' && request.expiry === undefined) request.expiry = { kind: 'persist' };
          else throw new RedisError(ERR.syntax);
        }
        return request;
      },
      plan: ({ key, expiry }, env) => {
        if (expiry === undefined) return { ops: [read(key)], reply: ([r]) => bulkOrNull(entryOf(r)?.value) };
        const at = expiry.kind === 'persist' ? 0 : Math.max(1, absoluteExpiry(expiry, env.now, 'getex'));
        return {
          ops: [read(key), { op: 'expire', key, at }],
          reply: ([r, e]) => {
            valueOf(e);
            return bulkOrNull(entryOf(r)?.value);
          },
        };
      },
    }),
    command<[string, Buffer]>({
      name: 'append',
      parse: (args) => [keyArg(args[0]), args[1]],
      plan: ([key, value]) => ({ ops: [{ op: 'append', key, value }], reply: ([r]) => int(numberOf(r)) }),
    }),
    command<string>({
      name: 'strlen',
      parse: (args) => keyArg(args[0]),
      plan: (key) => ({ ops: [read(key)], reply: ([r]) => int(entryOf(r)?.value.byteLength ?? 0) }),
    }),
    command<[string, bigint, bigint]>({
      name: 'getrange',
      parse: (args) => [keyArg(args[0]), intArg(args[1]), intArg(args[2])],
      plan: ([key, start, end]) => ({
        ops: [read(key)],
        reply: ([r]) => {
          const value = entryOf(r)?.value ?? new Uint8Array(0);
          // Redis: both ends negative and start > end is empty.
          if (start < 0n && end < 0n && start > end) return bulk(Buffer.alloc(0));
          const span = range(start, end, value.byteLength);
          return bulk(span === undefined ? Buffer.alloc(0) : value.subarray(span[0], span[1] + 1));
        },
      }),
    }),
    command<[string, number, Buffer]>({
      name: 'setrange',
      parse: (args) => {
        const key = keyArg(args[0]);
        const offset = intArg(args[1]);
        if (offset < 0n) throw new RedisError(ERR.offsetOutOfRange);
        if (args[2].length > 0 && offset + BigInt(args[2].length) > BigInt(limits.maxValueBytes)) throw tooLarge();
        return [key, Number(offset), args[2]];
      },
      plan: ([key, offset, value]) =>
        value.length === 0
          ? { ops: [read(key)], reply: ([r]) => int(entryOf(r)?.value.byteLength ?? 0) }
          : { ops: [{ op: 'setRange', key, offset, value }], reply: ([r]) => int(numberOf(r)) },
    }),
    command<string>({ name: 'incr', parse: (args) => keyArg(args[0]), plan: (key) => incrBy(key, 1n) }),
    command<string>({ name: 'decr', parse: (args) => keyArg(args[0]), plan: (key) => incrBy(key, -1n) }),
    command<[string, bigint]>({ name: 'incrby', parse: (args) => [keyArg(args[0]), intArg(args[1])], plan: ([key, n]) => incrBy(key, n) }),
    command<[string, bigint]>({
      name: 'decrby',
      parse: (args) => {
        const n = intArg(args[1]);
        if (n === INT64_MIN) throw new RedisError('ERR decrement would overflow');
        return [keyArg(args[0]), n];
      },
      plan: ([key, n]) => incrBy(key, -n),
    }),
    command<[string, number]>({
      name: 'incrbyfloat',
      parse: (args) => {
        const key = keyArg(args[0]);
        const amount = parseFloat64(args[1]);
        if (amount === undefined) throw new RedisError(ERR.notFloat);
        if (!Number.isFinite(amount)) throw new RedisError(ERR.nanOrInfinity);
        return [key, amount];
      },
      plan: ([key, amount]) => ({ ops: [{ op: 'incrByFloat', key, amount }], reply: ([r]) => text(valueOf(r) as string) }),
    }),
    command<[string, number, 0 | 1]>({
      name: 'setbit',
      parse: (args) => {
        const key = keyArg(args[0]);
        const offset = intArg(args[1], ERR.bitOffset);
        if (offset < 0n || offset >= 4n * 1024n * 1024n * 1024n * 8n) throw new RedisError(ERR.bitOffset);
        const bit = args[2].length === 1 && (args[2][0] === 0x30 || args[2][0] === 0x31) ? ((args[2][0] - 0x30) as 0 | 1) : undefined;
        if (bit === undefined) throw new RedisError(ERR.bitValue);
        if (offset >> 3n >= BigInt(limits.maxValueBytes)) throw tooLarge();
        return [key, Number(offset), bit];
      },
      plan: ([key, offset, bit]) => ({ ops: [{ op: 'setBit', key, offset, bit }], reply: ([r]) => int(numberOf(r)) }),
    }),
    command<[string, number]>({
      name: 'getbit',
      parse: (args) => {
        const offset = intArg(args[1], ERR.bitOffset);
        if (offset < 0n || offset >= 4n * 1024n * 1024n * 1024n * 8n) throw new RedisError(ERR.bitOffset);
        return [keyArg(args[0]), Number(offset)];
      },
      plan: ([key, offset]) => ({
        ops: [read(key)],
        reply: ([r]) => {
          const value = entryOf(r)?.value;
          const byte = offset >>> 3 < (value?.byteLength ?? 0) ? value![Math.floor(offset / 8)] : 0;
          return int((byte >> (7 - (offset % 8))) & 1);
        },
      }),
    }),
    command<{ key: string; start?: bigint; end?: bigint; bit: boolean }>({
      name: 'bitcount',
      parse: (args) => {
        const key = keyArg(args[0]);
        if (args.length === 1) return { key, bit: false };
        if (args.length === 2 || args.length > 4) throw new RedisError(ERR.syntax);
        const start = intArg(args[1]);
        const end = intArg(args[2]);
        let bit = false;
        if (args.length === 4) {
          const unit = word(args[3]);
          if (unit === 'bit') bit = true;
          else if (unit !== 'byte') throw new RedisError(ERR.syntax);
        }
        return { key, start, end, bit };
      },
      plan: ({ key, start, end, bit }) => ({
        ops: [read(key)],
        reply: ([r]) => {
          const value = entryOf(r)?.value;
          if (value === undefined) return ZERO;
          if (start === undefined || end === undefined) return int(popcount(value, 0, value.byteLength - 1));
          if (!bit) {
            const span = range(start, end, value.byteLength);
            return span === undefined ? ZERO : int(popcount(value, span[0], span[1]));
          }
          const span = range(start, end, value.byteLength * 8);
          if (span === undefined) return ZERO;
          let count = 0;
          for (let i = span[0]; i <= span[1]; i++) count += (value[i >>> 3] >> (7 - (i & 7))) & 1;
          return int(count);
        },
      }),
    }),
  ];
}

function pairs(args: readonly Buffer[], name: string): Array<[string, Buffer]> {
  if (args.length % 2 !== 0) throw new RedisError(wrongArity(name));
  const out: Array<[string, Buffer]> = [];
  for (let i = 0; i < args.length; i += 2) out.push([keyArg(args[i]), args[i + 1]]);
  return out;
}

export { safeIntArg };
