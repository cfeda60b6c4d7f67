import type { CommandHost } from '../command-host';
import { CommandDef, command } from '../command';
import { cacheNameArg, keyArg, safeIntArg, word } from '../args';
import { ERR } from '../errors';
import { keyMatcher } from '../glob';
import { NULL, OK, ONE, RedisError, ZERO, array, int, simple, text } from '../reply';
import { KEYS, boolOf, entryOf, keysOf, read } from './results';

/**
 * SCAN's cursor: keys are visited in the order of a 53-bit hash of their text (then by
 * text), and a cursor is the hash to continue from. Stateless and numeric (clients and
 * redis-cli parse cursors as unsigned 64-bit integers), valid on any connection or over
 * HTTP, and a key present for the whole scan is returned at least once: a call returns every
 * key whose hash lies between its cursor and the next one, and keys sharing a hash are never
 * split between calls. Each call looks at every key of the cache once (O(n)); see docs/redis.md.
 */
export function scanHash(key: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  return (h1 >>> 0) * 2 ** 21 + ((h2 >>> 0) >>> 11);
}

interface ScanRequest {
  cursor: bigint;
  match?: Buffer;
  count: number;
  type?: string;
}

/** One SCAN step over `keys` from `cursor`: the keys to return (before MATCH/TYPE) and the next cursor. */
export function scanStep(keys: readonly string[], cursor: bigint, count: number): { next: bigint; batch: string[] } {
  if (cursor >= 2n ** 53n) return { next: 0n, batch: [] };
  const from = Number(cursor);
  const candidates: Array<[number, string]> = [];
  for (const key of keys) {
    const h = scanHash(key);
    if (h >= from) candidates.push([h, key]);
  }
  candidates.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  let end = Math.min(count, candidates.length);
  while (end < candidates.length && end > 0 && candidates[end][0] === candidates[end - 1][0]) end++;
  const batch = candidates.slice(0, end).map(([, key]) => key);
  const next = end < candidates.length ? BigInt(candidates[end - 1][0] + 1) : 0n;
  return { next, batch };
}

function parseCursor(raw: Buffer): bigint {
  const text = raw.toString('latin1');
  if (!/^\d{1,20}$/.test(text) || BigInt(text) >= 2n ** 64n) throw new RedisError(ERR.invalidCursor);
  return BigInt(text);
}

export function keyCommands(engine: CommandHost): CommandDef<any>[] {
  void engine;
  return [
    ...(['del', 'unlink'] as const).map((name) =>
      command<string[]>({
        name,
        parse: (args) => args.map(keyArg),
        plan: (keys) => ({ ops: keys.map((key) => ({ op: 'delete' as const, key })), reply: (results) => int(results.filter(boolOf).length) }),
      }),
    ),
    ...(['exists', 'touch'] as const).map((name) =>
      command<string[]>({
        name,
        parse: (args) => args.map(keyArg),
        plan: (keys) => ({ ops: keys.map(read), reply: (results) => int(results.filter((r) => entryOf(r) !== null).length) }),
      }),
    ),
    command<string>({
      name: 'type',
      parse: (args) => keyArg(args[0]),
      plan: (key) => ({ ops: [read(key)], reply: ([r]) => simple(entryOf(r) === null ? 'none' : 'string') }),
    }),
    ...(['rename', 'renamenx'] as const).map((name) =>
      command<[string, string]>({
        name,
        parse: (args) => [keyArg(args[0]), keyArg(args[1])],
        plan: ([from, to]) => ({
          ops: [{ op: 'rename', from, to, onlyIfAbsent: name === 'renamenx' }],
          reply: ([r]) => (name === 'rename' ? (boolOf(r), OK) : boolOf(r) ? ONE : ZERO),
        }),
      }),
    ),
    command<{ from: string; to: string; replace: boolean }>({
      name: 'copy',
      parse: (args, session) => {
        const request = { from: keyArg(args[0]), to: keyArg(args[1]), replace: false };
        for (let i = 2; i < args.length; i++) {
          const option = word(args[i]);
          if (option === 'replace') request.replace = true;
          else if (option === 'db' && i + 1 < args.length) {
            const db = cacheNameArg(args[++i]);
            if (db !== session.db) throw new RedisError('ERR COPY to another database is not supported by cachelog: a database is a cache, and one command writes one cache (see docs/redis.md)');
          } else throw new RedisError(ERR.syntax);
        }
        if (request.from === request.to) throw new RedisError('ERR source and destination objects are the same');
        return request;
      },
      plan: ({ from, to, replace }) => ({ ops: [{ op: 'copy', from, to, replace }], reply: ([r]) => (boolOf(r) ? ONE : ZERO) }),
    }),
    command<Buffer>({
      name: 'keys',
      parse: (args) => args[0],
      plan: (pattern) => {
        const matches = keyMatcher(pattern);
        return { ops: [KEYS], reply: ([r]) => array(keysOf(r).filter(matches).map(text)) };
      },
    }),
    command<ScanRequest>({
      name: 'scan',
      parse: (args) => {
        const request: ScanRequest = { cursor: parseCursor(args[0]), count: 10 };
        for (let i = 1; i < args.length; i++) {
          const option = word(args[i]);
          if (i + 1 >= args.length) throw new RedisError(ERR.syntax);
          if (option === 'match') request.match = args[++i];
          else if (option === 'count') {
            const count = safeIntArg(args[++i]);
            if (count < 1) throw new RedisError(ERR.syntax);
            request.count = Math.min(count, 1_000_000);
          } else if (option === 'type') request.type = word(args[++i]);
          else throw new RedisError(ERR.syntax);
        }
        return request;
      },
      plan: ({ cursor, match, count, type }) => ({
        ops: [KEYS],
        reply: ([r]) => {
          const { next, batch } = scanStep(keysOf(r), cursor, count);
          const matches = keyMatcher(match);
          const shown = type !== undefined && type !== 'string' ? [] : batch.filter(matches);
          return array([text(next.toString()), array(shown.map(text))]);
        },
      }),
    }),
    command<void>({
      name: 'randomkey',
      parse: () => undefined,
      plan: () => ({
        ops: [KEYS],
        reply: ([r]) => {
          const keys = keysOf(r);
          return keys.length === 0 ? NULL : text(keys[Math.floor(Math.random() * keys.length)]);
        },
      }),
    }),
    command<void>({
      name: 'dbsize',
      parse: () => undefined,
      plan: () => ({ ops: [KEYS], reply: ([r]) => int(keysOf(r).length) }),
    }),
  ];
}
