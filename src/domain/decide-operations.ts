import { CacheCommand } from './commands';
import { DomainError, domainError } from './errors';
import { CacheEvent, EventMeta } from './events';
import { assertNever, evolve } from './evolve';
import { ExpiryChoice, KeyOperation, OperationResult, OperationValue } from './operations';
import { addLongDoubles, formatLongDouble, longDoubleOfNumber, parseLongDouble } from './redis-float';
import { CacheState, Entry, draftOf, liveEntry, liveKeys } from './state';
import { NOT_AN_INTEGER, checkValue, defaultExpiry, isInt64, parseRedisInt64, setEvent, store } from './write-rules';

/**
 * The decider of `ApplyOperations` (see operations.ts): the ops one after the other, each
 * seeing the ones before it, as Redis 7 documents its commands. An op that fails appends
 * nothing and answers its error; the others still apply (the commands of an EXEC).
 * Pure: no I/O and no clock; `now` is data.
 */

type ApplyOperations = Extract<CacheCommand, { type: 'ApplyOperations' }>;

export interface OperationsOutcome {
  readonly events: CacheEvent[];
  readonly results: OperationResult[];
  /** A watched key had changed: nothing was decided. */
  readonly aborted: boolean;
}

/** Redis's own limit on a string (`proto-max-bulk-len`, 512 MiB): no op builds a longer value, whatever the settings. */
export const REDIS_MAX_STRING_BYTES = 512 * 1024 * 1024;

/** What the ops of one command share. */
interface Context {
  readonly meta: EventMeta;
  readonly now: number;
  /** The service's largest value (MAX_VALUE_BYTES); undefined: not given. */
  readonly serviceMaxBytes: number | undefined;
}

/** An op's decision: its result value and events, or its error. */
type Decided = { readonly value: OperationValue; readonly events: CacheEvent[] } | { readonly error: DomainError };

const done = (value: OperationValue, events: CacheEvent[] = []): Decided => ({ value, events });
const failed = (code: DomainError['code'], message: string): Decided => ({ error: domainError(code, message) });

export function decideOperations(state: CacheState, command: ApplyOperations, meta: EventMeta, now: number): OperationsOutcome {
  for (const watched of command.watch ?? []) {
    if ((liveEntry(state, watched.key, now)?.version ?? null) !== watched.version) return { events: [], results: [], aborted: true };
  }
  const ctx: Context = { meta, now, serviceMaxBytes: command.maxValueBytes };
  const events: CacheEvent[] = [];
  const results: OperationResult[] = [];
  let quotaLeft = command.quotaRemaining;
  // The ops after the first one that writes see it on a copy-on-write draft; a command of
  // one op (most of them) decides on `state` itself and makes no draft.
  let view = state;
  const { ops } = command;
  for (let i = 0; i < ops.length; i++) {
    const decided = decideOperation(view, ops[i], ctx);
    if ('error' in decided) {
      results.push({ ok: false, error: decided.error });
      continue;
    }
    if (decided.events.length > 0) {
      if (quotaLeft !== undefined) {
        const growth = growthOf(view, decided.events);
        if (growth > quotaLeft) {
          results.push({ ok: false, error: domainError('QUOTA_EXCEEDED', 'the organisation has reached its byte quota') });
          continue;
        }
        quotaLeft -= growth;
      }
      if (i < ops.length - 1) {
        if (view === state) view = draftOf(state);
        for (const event of decided.events) evolve(view, event);
      }
      for (const event of decided.events) events.push(event);
    }
    results.push({ ok: true, value: decided.value });
  }
  return { events, results, aborted: false };
}

/**
 * Bytes `events` add to the cache's values (negative when they free some), as SetValue
 * counts them for the quota: a write's new value less the one it replaces, a removal's
 * value freed; what evictions free is not credited.
 */
function growthOf(state: CacheState, events: readonly CacheEvent[]): number {
  let growth = 0;
  const lengths = new Map<string, number>();
  let flushed = false;
  const lengthOf = (key: string) => lengths.get(key) ?? (flushed || state.status !== 'live' ? 0 : (state.entries.get(key)?.value.byteLength ?? 0));
  for (const event of events) {
    switch (event.type) {
      case 'Set':
        growth += event.value.byteLength - lengthOf(event.key);
        lengths.set(event.key, event.value.byteLength);
        break;
      case 'Deleted':
      case 'Expired':
        growth -= lengthOf(event.key);
        lengths.set(event.key, 0);
        break;
      case 'Flushed':
        growth = -(state.status === 'live' ? state.bytes : 0); // whatever came before it in these events is gone too
        lengths.clear();
        flushed = true;
        break;
      default:
        break;
    }
  }
  return growth;
}

function decideOperation(state: CacheState, op: KeyOperation, ctx: Context): Decided {
  const { meta, now } = ctx;
  switch (op.op) {
    case 'read':
      return done(liveEntry(state, op.key, now) ?? null);

    case 'keys':
      return done([...liveKeys(state, now)]);

    case 'set': {
      const invalid = checkStored(state, op.value.byteLength, ctx) ?? checkValue(state, op.value);
      if (invalid) return { error: invalid };
      const current = liveEntry(state, op.key, now);
      const previous = current ?? null;
      if ((op.when === 'absent' && current !== undefined) || (op.when === 'present' && current === undefined)) {
        return done({ applied: false, previous });
      }
      const expiresAt = expiryOf(op.expiry, state, current, now);
      if (expiresAt === undefined) return failed('INVALID_ARGUMENT', 'an expiry time must be a whole number of ms since the epoch');
      if (expiresAt === PAST) return done({ applied: true, previous }, removal(meta, op.key, current));
      return done({ applied: true, previous }, store(state, meta, op.key, op.value, expiresAt));
    }

    case 'delete': {
      const current = liveEntry(state, op.key, now);
      return done(current !== undefined, removal(meta, op.key, current));
    }

    case 'expire':
      return decideExpire(state, op, ctx);

    case 'append': {
      const current = liveEntry(state, op.key, now);
      const before = current?.value.byteLength ?? 0;
      if (current !== undefined && op.value.byteLength === 0) return done(before);
      const length = before + op.value.byteLength;
      const tooLarge = checkStored(state, length, ctx);
      if (tooLarge) return { error: tooLarge };
      const value = new Uint8Array(length);
      if (current !== undefined) value.set(current.value);
      value.set(op.value, before);
      return write(state, op.key, value, current, ctx, length);
    }

    case 'setRange': {
      if (!Number.isSafeInteger(op.offset) || op.offset < 0) return failed('INVALID_ARGUMENT', 'offset is out of range');
      const current = liveEntry(state, op.key, now);
      const before = current?.value.byteLength ?? 0;
      if (op.value.byteLength === 0) return done(before); // Redis: no change, and no key created
      const length = Math.max(before, op.offset + op.value.byteLength);
      const tooLarge = checkStored(state, length, ctx);
      if (tooLarge) return { error: tooLarge };
      const value = new Uint8Array(length); // zero padding
      if (current !== undefined) value.set(current.value);
      value.set(op.value, op.offset);
      if (current !== undefined && length === before && sameBytes(value, current.value)) return done(length);
      return write(state, op.key, value, current, ctx, length);
    }

    case 'setBit': {
      if (!Number.isSafeInteger(op.offset) || op.offset < 0) return failed('INVALID_ARGUMENT', 'bit offset is not an integer or out of range');
      if (op.bit !== 0 && op.bit !== 1) return failed('INVALID_ARGUMENT', 'bit is not an integer or out of range');
      const current = liveEntry(state, op.key, now);
      const before = current?.value.byteLength ?? 0;
      const byte = Math.floor(op.offset / 8);
      const mask = 0x80 >> op.offset % 8;
      const length = Math.max(before, byte + 1);
      const tooLarge = checkStored(state, length, ctx);
      if (tooLarge) return { error: tooLarge };
      const previousBit = byte < before && (current!.value[byte] & mask) !== 0 ? 1 : 0;
      if (current !== undefined && length === before && previousBit === op.bit) return done(previousBit);
      const value = new Uint8Array(length);
      if (current !== undefined) value.set(current.value);
      value[byte] = op.bit === 1 ? value[byte] | mask : value[byte] & ~mask;
      return write(state, op.key, value, current, ctx, previousBit);
    }

    case 'incrBy': {
      if (typeof op.amount !== 'bigint' || !isInt64(op.amount)) return failed('NOT_A_NUMBER', 'the amount is not a 64-bit signed integer');
      const current = liveEntry(state, op.key, now);
      const base = current === undefined ? 0n : parseRedisInt64(current.value);
      if (base === NOT_AN_INTEGER) return failed('NOT_A_NUMBER', 'value is not an integer or out of range');
      const result = base + op.amount;
      if (!isInt64(result)) return failed('NUMBER_OUT_OF_RANGE', 'increment or decrement would overflow');
      return write(state, op.key, new TextEncoder().encode(result.toString()), current, ctx, result);
    }

    case 'incrByFloat': {
      const amount = typeof op.amount === 'number' ? longDoubleOfNumber(op.amount) : undefined;
      if (amount === undefined) return failed('NOT_A_FLOAT', 'the amount is not a valid float');
      const current = liveEntry(state, op.key, now);
      const base = current === undefined ? longDoubleOfNumber(0) : parseLongDouble(current.value);
      if (base === undefined) return failed('NOT_A_FLOAT', 'value is not a valid float');
      const sum = addLongDoubles(base, amount);
      if (sum === undefined || !sum.finite) return failed('NOT_FINITE', 'increment would produce NaN or Infinity');
      const text = formatLongDouble(sum);
      return write(state, op.key, new TextEncoder().encode(text), current, ctx, text);
    }

    case 'rename': {
      const source = liveEntry(state, op.from, now);
      if (source === undefined) return failed('KEY_NOT_FOUND', 'no such key');
      if (op.from === op.to) return done(!op.onlyIfAbsent); // Redis: OK for RENAME, 0 for RENAMENX
      if (op.onlyIfAbsent && liveEntry(state, op.to, now) !== undefined) return done(false);
      const invalid = checkStored(state, source.value.byteLength, ctx) ?? checkValue(state, source.value);
      if (invalid) return { error: invalid };
      // The source's removal makes room for the target: no eviction.
      return done(true, [{ ...meta, type: 'Deleted', key: op.from }, setEvent(meta, op.to, source.value, source.expiresAt)]);
    }

    case 'copy': {
      if (op.from === op.to) return failed('INVALID_ARGUMENT', 'source and destination objects are the same');
      const source = liveEntry(state, op.from, now);
      if (source === undefined) return done(false);
      if (!op.replace && liveEntry(state, op.to, now) !== undefined) return done(false);
      const invalid = checkStored(state, source.value.byteLength, ctx) ?? checkValue(state, source.value);
      if (invalid) return { error: invalid };
      return done(true, store(state, meta, op.to, source.value, source.expiresAt));
    }

    case 'flush':
      return done(true, state.status === 'live' && state.entries.size > 0 ? [{ ...meta, type: 'Flushed' }] : []);

    default:
      return assertNever(op);
  }
}

/**
 * EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, and PERSIST (`at: 0`), as Redis's
 * expireGenericCommand: a missing key or a condition that does not hold answers false; a
 * key without expiry counts as an infinite TTL for GT and LT; a time at or before `now`
 * deletes the key.
 */
function decideExpire(state: CacheState, op: Extract<KeyOperation, { op: 'expire' }>, ctx: Context): Decided {
  const { meta, now } = ctx;
  if (!Number.isSafeInteger(op.at)) return failed('INVALID_ARGUMENT', 'invalid expire time');
  if (op.at === 0 && op.condition !== undefined) return failed('INVALID_ARGUMENT', 'PERSIST (at 0) takes no condition');
  const current = liveEntry(state, op.key, now);
  if (current === undefined) return done(false);
  const expiresAt = current.expiresAt; // 0: none
  if (op.at === 0) return expiresAt === 0 ? done(false) : done(true, [{ ...meta, type: 'ExpiryChanged', key: op.key, expiresAt: 0 }]);
  switch (op.condition) {
    case 'nx':
      if (expiresAt !== 0) return done(false);
      break;
    case 'xx':
      if (expiresAt === 0) return done(false);
      break;
    case 'gt':
      if (expiresAt === 0 || op.at <= expiresAt) return done(false);
      break;
    case 'lt':
      if (expiresAt !== 0 && op.at >= expiresAt) return done(false);
      break;
    case undefined:
      break;
    default:
      return assertNever(op.condition);
  }
  if (op.at <= now) return done(true, [{ ...meta, type: 'Deleted', key: op.key }]);
  if (op.at === expiresAt) return done(true);
  return done(true, [{ ...meta, type: 'ExpiryChanged', key: op.key, expiresAt: op.at }]);
}

/** Stores a value an op computed from the key's (`current`), keeping its expiry (a new key gets the cache default). */
function write(state: CacheState, key: string, value: Uint8Array, current: Entry | undefined, ctx: Context, result: OperationValue): Decided {
  const invalid = checkStored(state, value.byteLength, ctx) ?? checkValue(state, value);
  if (invalid) return { error: invalid };
  const expiresAt = current !== undefined ? current.expiresAt : defaultExpiry(state, ctx.now);
  return done(result, store(state, ctx.meta, key, value, expiresAt));
}

/** A Deleted event when the key is live; nothing otherwise (an expired one is left to its Expired event). */
const removal = (meta: EventMeta, key: string, current: Entry | undefined): CacheEvent[] => (current === undefined ? [] : [{ ...meta, type: 'Deleted', key }]);

/**
 * The length limits a stored value must keep, checked before an op builds it: the cache's
 * `maxValueBytes`, the service's MAX_VALUE_BYTES and Redis's 512 MiB.
 */
function checkStored(state: CacheState, length: number, ctx: Context): DomainError | undefined {
  const { maxValueBytes } = state.settings;
  if (maxValueBytes > 0 && length > maxValueBytes) {
    return domainError('VALUE_TOO_LARGE', `the value would be ${length} bytes, more than this cache's maxValueBytes (${maxValueBytes})`);
  }
  if (ctx.serviceMaxBytes !== undefined && ctx.serviceMaxBytes > 0 && length > ctx.serviceMaxBytes) {
    return domainError('VALUE_TOO_LARGE', `the value would be ${length} bytes, more than MAX_VALUE_BYTES (${ctx.serviceMaxBytes})`);
  }
  if (length > REDIS_MAX_STRING_BYTES) {
    return domainError('VALUE_TOO_LARGE', `the value would be ${length} bytes, more than the largest string (${REDIS_MAX_STRING_BYTES})`);
  }
  return undefined;
}

/** An expiry at or before `now`: the write leaves no key. */
const PAST = Symbol('past');

/** The absolute expiry a write leaves on its key (0: none), PAST, or undefined for a time that is not a whole number. */
function expiryOf(expiry: ExpiryChoice, state: CacheState, current: Entry | undefined, now: number): number | typeof PAST | undefined {
  switch (expiry.kind) {
    case 'default':
      return defaultExpiry(state, now);
    case 'keep':
      return current !== undefined ? current.expiresAt : defaultExpiry(state, now);
    case 'at':
      return !Number.isSafeInteger(expiry.at) ? undefined : expiry.at <= now ? PAST : expiry.at;
    case 'none':
      return 0;
    default:
      return assertNever(expiry);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether some of `ops` may store a value, and so create a cache that is not live (reads, deletes, expiries and flushes never do). */
export function operationsMayCreate(ops: readonly KeyOperation[]): boolean {
  return ops.some((op) => CREATING.has(op.op));
}

const CREATING: ReadonlySet<KeyOperation['op']> = new Set(['set', 'append', 'setRange', 'setBit', 'incrBy', 'incrByFloat', 'rename', 'copy']);
