import fc from 'fast-check';
import {
  CacheCommand,
  CacheEvent,
  CacheState,
  DEFAULT_SETTINGS,
  Entry,
  KeyOperation,
  OperationResult,
  WatchedKey,
  evolve,
  initialState,
  liveEntry,
  operationsMayCreate,
} from '../../src/domain';
import { at, given } from '../support/given-when-then';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const who = { by: 'tester' };
const NOW = 1_000;
const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const set = (key: string, text: string, expiresAt = 0): CacheEvent => ({ ...at(2), type: 'Set', key, value: bytes(text), expiresAt });
const settings = (changes: Partial<typeof DEFAULT_SETTINGS>): CacheEvent => ({ ...at(2), type: 'SettingsChanged', ...DEFAULT_SETTINGS, ...changes });
/** Events decided at NOW. */
const e = {
  created: (): CacheEvent => ({ ...at(NOW), type: 'Created', description: '' }),
  set: (key: string, text: string | Uint8Array, expiresAt = 0): CacheEvent => ({ ...at(NOW), type: 'Set', key, value: typeof text === 'string' ? bytes(text) : text, expiresAt }),
  deleted: (key: string): CacheEvent => ({ ...at(NOW), type: 'Deleted', key }),
  evicted: (key: string): CacheEvent => ({ ...at(NOW), type: 'Evicted', key }),
  expiry: (key: string, expiresAt: number): CacheEvent => ({ ...at(NOW), type: 'ExpiryChanged', key, expiresAt }),
  flushed: (): CacheEvent => ({ ...at(NOW), type: 'Flushed' }),
};

type Options = { watch?: WatchedKey[]; quotaRemaining?: number; maxValueBytes?: number; now?: number };

/** Given these events, when these ops: the events decided, one readable result per op, and whether it aborted. */
function apply(history: CacheEvent[], ops: KeyOperation[], { now = NOW, ...options }: Options = {}) {
  const scenario = given(history);
  const command: CacheCommand = { ...who, type: 'ApplyOperations', ops, ...options };
  const decision = scenario.when(command, now).decision;
  if (!decision.ok) throw new Error(`the command was refused: ${decision.error.code}`);
  return { events: decision.events, results: (decision.results ?? []).map(readable), aborted: decision.aborted ?? false, state: scenario.state };
}

/** A result as something `toEqual` reads well: a value (entries as text), or `error CODE`. */
function readable(result: OperationResult): unknown {
  if (!result.ok) return `error ${result.error.code}`;
  const value = result.value;
  if (value !== null && typeof value === 'object' && 'applied' in value) return { applied: value.applied, previous: value.previous && entryText(value.previous) };
  if (value !== null && typeof value === 'object' && 'expiresAt' in value) return entryText(value as Entry);
  return value;
}

const entryText = (entry: Entry) => ({ value: Buffer.from(entry.value).toString('latin1'), expiresAt: entry.expiresAt, version: entry.version });

describe('ApplyOperations: set (SET and its options, SETNX, SETEX, MSET, GETSET)', () => {
  it('stores a new key in a cache that does not exist yet: Created first, then the Set', () => {
    const { events, results } = apply([], [{ op: 'set', key: 'k', value: bytes('v'), expiry: { kind: 'default' }, when: 'always' }]);
    expect(events).toEqual([e.created(), e.set('k', 'v')]);
    expect(results).toEqual([{ applied: true, previous: null }]);
  });

  it('answers the entry it replaced (SET ... GET)', () => {
    const { events, results } = apply([created, set('k', 'old', 5_000)], [{ op: 'set', key: 'k', value: bytes('new'), expiry: { kind: 'none' }, when: 'always' }]);
    expect(events).toEqual([e.set('k', 'new', 0)]);
    expect(results).toEqual([{ applied: true, previous: { value: 'old', expiresAt: 5_000, version: 2 } }]);
  });

  it('NX on a present key and XX on an absent one apply nothing and answer the entry as it is', () => {
    const history = [created, set('k', 'old')];
    const nx = apply(history, [{ op: 'set', key: 'k', value: bytes('x'), expiry: { kind: 'default' }, when: 'absent' }]);
    expect(nx.events).toStrictEqual([]);
    expect(nx.results).toEqual([{ applied: false, previous: { value: 'old', expiresAt: 0, version: 2 } }]);
    const xx = apply(history, [{ op: 'set', key: 'other', value: bytes('x'), expiry: { kind: 'default' }, when: 'present' }]);
    expect(xx.events).toStrictEqual([]);
    expect(xx.results).toEqual([{ applied: false, previous: null }]);
    // An XX on a cache that does not exist creates nothing.
    expect(apply([], [{ op: 'set', key: 'k', value: bytes('x'), expiry: { kind: 'default' }, when: 'present' }]).events).toStrictEqual([]);
  });

  it('an expired key counts as absent for NX', () => {
    const { events, results } = apply([created, set('k', 'old', 500)], [{ op: 'set', key: 'k', value: bytes('x'), expiry: { kind: 'default' }, when: 'absent' }]);
    expect(events).toEqual([e.set('k', 'x')]);
    expect(results).toEqual([{ applied: true, previous: null }]);
  });

  it('expiry: default is the cache TTL, none ignores it, at is absolute, keep keeps the key’s (a new key gets the default)', () => {
    const history = [created, settings({ ttlSeconds: 60 }), set('k', 'v', 9_000)];
    const write = (key: string, expiry: Extract<KeyOperation, { op: 'set' }>['expiry']) =>
      apply(history, [{ op: 'set', key, value: bytes('w'), expiry, when: 'always' }]).events;
    expect(write('k', { kind: 'default' })).toEqual([e.set('k', 'w', NOW + 60_000)]);
    expect(write('k', { kind: 'none' })).toEqual([e.set('k', 'w', 0)]);
    expect(write('k', { kind: 'at', at: 123_456 })).toEqual([e.set('k', 'w', 123_456)]);
    expect(write('k', { kind: 'keep' })).toEqual([e.set('k', 'w', 9_000)]);
    expect(write('new', { kind: 'keep' })).toEqual([e.set('new', 'w', NOW + 60_000)]);
  });

  it('an expiry at or before now leaves the key deleted (and applied), creating nothing when it was absent', () => {
    const history = [created, set('k', 'v')];
    const past = apply(history, [{ op: 'set', key: 'k', value: bytes('w'), expiry: { kind: 'at', at: NOW }, when: 'always' }]);
    expect(past.events).toEqual([e.deleted('k')]);
    expect(past.results).toEqual([{ applied: true, previous: { value: 'v', expiresAt: 0, version: 2 } }]);
    const absent = apply([], [{ op: 'set', key: 'k', value: bytes('w'), expiry: { kind: 'at', at: 1 }, when: 'always' }]);
    expect(absent.events).toStrictEqual([]);
    expect(absent.results).toEqual([{ applied: true, previous: null }]);
  });

  it('an expiry that is not a whole number of ms is INVALID_ARGUMENT', () => {
    expect(apply([created], [{ op: 'set', key: 'k', value: bytes('w'), expiry: { kind: 'at', at: 1.5e3 + 0.5 }, when: 'always' }]).results).toEqual(['error INVALID_ARGUMENT']);
  });

  it("every value goes through the cache's maxValueBytes and cacheNullValue and the service's MAX_VALUE_BYTES", () => {
    const small = [created, settings({ maxValueBytes: 3, cacheNullValue: false })];
    const op = (text: string): KeyOperation => ({ op: 'set', key: 'k', value: bytes(text), expiry: { kind: 'default' }, when: 'always' });
    expect(apply(small, [op('abcd')]).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply(small, [op('')]).results).toEqual(['error EMPTY_VALUE_REJECTED']);
    expect(apply(small, [op('abc')]).events).toEqual([e.set('k', 'abc')]);
    expect(apply([created], [op('abcdef')], { maxValueBytes: 5 }).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created], [op('abcde')], { maxValueBytes: 5 }).events).toEqual([e.set('k', 'abcde')]);
  });

  it('a new key at capacity evicts the least recently used one (MSET evicts as it goes)', () => {
    const history = [created, settings({ capacity: 2 }), set('a', '1'), set('b', '2')];
    const { events } = apply(history, [
      { op: 'set', key: 'c', value: bytes('3'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'set', key: 'd', value: bytes('4'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'set', key: 'd', value: bytes('5'), expiry: { kind: 'default' }, when: 'always' },
    ]);
    expect(events).toEqual([e.evicted('a'), e.set('c', '3'), e.evicted('b'), e.set('d', '4'), e.set('d', '5')]);
  });
});

describe('ApplyOperations: read and keys (GET, MGET, KEYS, EXISTS inside MULTI)', () => {
  it('never answers an expired entry, and a cache that is not live has no keys', () => {
    const history = [created, set('live', 'v'), set('gone', 'x', 500)];
    expect(apply(history, [{ op: 'read', key: 'gone' }, { op: 'read', key: 'live' }, { op: 'keys' }]).results).toEqual([
      null,
      { value: 'v', expiresAt: 0, version: 2 },
      ['live'],
    ]);
    expect(apply([], [{ op: 'read', key: 'k' }, { op: 'keys' }]).results).toEqual([null, []]);
  });

  it('sees the writes of the ops before it, with the version they will have', () => {
    const { results, events } = apply([created, set('a', '1')], [
      { op: 'set', key: 'b', value: bytes('2'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'delete', key: 'a' },
      { op: 'read', key: 'b' },
      { op: 'keys' },
    ]);
    expect(events).toEqual([e.set('b', '2'), e.deleted('a')]);
    expect(results).toEqual([{ applied: true, previous: null }, true, { value: '2', expiresAt: 0, version: 3 }, ['b']]);
  });
});

describe('ApplyOperations: delete (DEL, UNLINK, GETDEL)', () => {
  it('answers whether the key existed; a missing or expired key appends nothing', () => {
    const history = [created, set('k', 'v'), set('old', 'x', 500)];
    const { events, results } = apply(history, [{ op: 'delete', key: 'k' }, { op: 'delete', key: 'k' }, { op: 'delete', key: 'old' }, { op: 'delete', key: 'none' }]);
    expect(events).toEqual([e.deleted('k')]);
    expect(results).toEqual([true, false, false, false]);
    expect(apply([], [{ op: 'delete', key: 'k' }]).events).toStrictEqual([]); // creates no cache
  });
});

describe('ApplyOperations: expire (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, PERSIST)', () => {
  const history = [created, set('ttl', 'v', 50_000), set('forever', 'v')];
  const expire = (key: string, when: number, condition?: 'nx' | 'xx' | 'gt' | 'lt') =>
    apply(history, [{ op: 'expire', key, at: when, ...(condition ? { condition } : {}) }]);

  it('journals the new expiry as ExpiryChanged, without the value', () => {
    expect(expire('forever', 20_000)).toMatchObject({ events: [e.expiry('forever', 20_000)], results: [true] });
    expect(expire('ttl', 20_000)).toMatchObject({ events: [e.expiry('ttl', 20_000)], results: [true] });
  });

  it('a missing or expired key answers false', () => {
    expect(expire('none', 20_000)).toMatchObject({ events: [], results: [false] });
    expect(apply([created, set('gone', 'v', 500)], [{ op: 'expire', key: 'gone', at: 20_000 }])).toMatchObject({ events: [], results: [false] });
  });

  it('NX only without expiry, XX only with one, GT and LT count no expiry as infinite', () => {
    const cases: Array<[string, number, 'nx' | 'xx' | 'gt' | 'lt', boolean]> = [
      ['forever', 20_000, 'nx', true],
      ['ttl', 20_000, 'nx', false],
      ['forever', 20_000, 'xx', false],
      ['ttl', 20_000, 'xx', true],
      ['ttl', 60_000, 'gt', true],
      ['ttl', 50_000, 'gt', false],
      ['ttl', 40_000, 'gt', false],
      ['forever', 60_000, 'gt', false], // nothing is greater than infinite
      ['ttl', 40_000, 'lt', true],
      ['ttl', 50_000, 'lt', false],
      ['ttl', 60_000, 'lt', false],
      ['forever', 60_000, 'lt', true], // anything is less than infinite
    ];
    for (const [key, when, condition, applied] of cases) {
      const { events, results } = expire(key, when, condition);
      expect([key, when, condition, results[0]]).toEqual([key, when, condition, applied]);
      expect(events).toEqual(applied ? [e.expiry(key, when)] : []);
    }
  });

  it('a time at or before now deletes the key (after the condition held), and answers true', () => {
    expect(expire('ttl', NOW)).toMatchObject({ events: [e.deleted('ttl')], results: [true] });
    expect(expire('forever', -5_000, 'lt')).toMatchObject({ events: [e.deleted('forever')], results: [true] });
    expect(expire('forever', -5_000, 'gt')).toMatchObject({ events: [], results: [false] });
    expect(expire('ttl', -5_000, 'nx')).toMatchObject({ events: [], results: [false] });
  });

  it('at 0 is PERSIST: false for a key without expiry; the same expiry again answers true and appends nothing', () => {
    expect(expire('ttl', 0)).toMatchObject({ events: [e.expiry('ttl', 0)], results: [true] });
    expect(expire('forever', 0)).toMatchObject({ events: [], results: [false] });
    expect(expire('ttl', 50_000)).toMatchObject({ events: [], results: [true] });
    expect(expire('ttl', 0, 'gt').results).toEqual(['error INVALID_ARGUMENT']);
    expect(expire('ttl', 1.5).results).toEqual(['error INVALID_ARGUMENT']);
  });

  it('ExpiryChanged gives the entry a new version (WATCH sees it) and makes it the most recently used; value and bytes stay', () => {
    const state = [...history, { ...at(3), type: 'ExpiryChanged', key: 'ttl', expiresAt: 70_000 } as CacheEvent].reduce(evolve, initialState());
    expect(entryText(state.entries.get('ttl')!)).toEqual({ value: 'v', expiresAt: 70_000, version: 4 });
    expect([...state.entries.keys()]).toEqual(['forever', 'ttl']);
    expect(state.bytes).toBe(2);
  });
});

describe('ApplyOperations: append, setRange, setBit (APPEND, SETRANGE, SETBIT)', () => {
  it('append: a missing key counts as empty and gets the cache default TTL; an existing one keeps its expiry', () => {
    const history = [created, settings({ ttlSeconds: 10 }), set('k', 'ab', 50_000)];
    expect(apply(history, [{ op: 'append', key: 'k', value: bytes('cd') }])).toMatchObject({ events: [e.set('k', 'abcd', 50_000)], results: [4] });
    expect(apply(history, [{ op: 'append', key: 'n', value: bytes('cd') }])).toMatchObject({ events: [e.set('n', 'cd', NOW + 10_000)], results: [2] });
    expect(apply([], [{ op: 'append', key: 'n', value: bytes('x') }])).toMatchObject({ events: [e.created(), e.set('n', 'x')], results: [1] });
  });

  it('append of nothing: no change for a key that exists, an empty key for one that does not (as Redis)', () => {
    expect(apply([created, set('k', 'ab')], [{ op: 'append', key: 'k', value: bytes('') }])).toMatchObject({ events: [], results: [2] });
    expect(apply([created], [{ op: 'append', key: 'n', value: bytes('') }])).toMatchObject({ events: [e.set('n', '')], results: [0] });
    expect(apply([created, settings({ cacheNullValue: false })], [{ op: 'append', key: 'n', value: bytes('') }]).results).toEqual(['error EMPTY_VALUE_REJECTED']);
  });

  it('append beyond the limits is VALUE_TOO_LARGE', () => {
    expect(apply([created, settings({ maxValueBytes: 4 }), set('k', 'abc')], [{ op: 'append', key: 'k', value: bytes('de') }]).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created, set('k', 'abc')], [{ op: 'append', key: 'k', value: bytes('de') }], { maxValueBytes: 4 }).results).toEqual(['error VALUE_TOO_LARGE']);
  });

  it('setRange pads with zero bytes, overwrites in place and keeps the expiry', () => {
    expect(apply([created], [{ op: 'setRange', key: 'n', offset: 3, value: bytes('xy') }])).toMatchObject({ events: [e.set('n', '\0\0\0xy')], results: [5] });
    expect(apply([created, set('k', 'Hello World', 50_000)], [{ op: 'setRange', key: 'k', offset: 6, value: bytes('Redis') }])).toMatchObject({
      events: [e.set('k', 'Hello Redis', 50_000)],
      results: [11],
    });
    expect(apply([created, set('k', 'ab')], [{ op: 'setRange', key: 'k', offset: 1, value: bytes('bcd') }])).toMatchObject({ events: [e.set('k', 'abcd')], results: [4] });
  });

  it('setRange of nothing changes nothing and creates nothing; writing the same bytes appends nothing', () => {
    expect(apply([], [{ op: 'setRange', key: 'n', offset: 5, value: bytes('') }])).toMatchObject({ events: [], results: [0] });
    expect(apply([created, set('k', 'abc')], [{ op: 'setRange', key: 'k', offset: 9, value: bytes('') }])).toMatchObject({ events: [], results: [3] });
    expect(apply([created, set('k', 'abc')], [{ op: 'setRange', key: 'k', offset: 1, value: bytes('bc') }])).toMatchObject({ events: [], results: [3] });
  });

  it('setRange beyond the limits is refused before the value is built (an offset near 512 MiB or beyond)', () => {
    const op = (offset: number): KeyOperation => ({ op: 'setRange', key: 'k', offset, value: bytes('x') });
    expect(apply([created], [op(512 * 1024 * 1024)]).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created], [op(2 ** 40)]).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created], [op(4_000_000)], { maxValueBytes: 4_000_000 }).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created, settings({ maxValueBytes: 10 })], [op(10)]).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created, settings({ maxValueBytes: 10 })], [op(9)]).results).toEqual([10]);
    expect(apply([created], [op(-1)]).results).toEqual(['error INVALID_ARGUMENT']);
  });

  it('setBit: bit 0 is the most significant bit of byte 0; the value grows with zero bytes; answers the bit before', () => {
    expect(apply([created], [{ op: 'setBit', key: 'n', offset: 10, bit: 0 }])).toMatchObject({ events: [e.set('n', '\0\0')], results: [0] });
    expect(apply([created], [{ op: 'setBit', key: 'n', offset: 10, bit: 1 }])).toMatchObject({ events: [e.set('n', '\0\x20')], results: [0] });
    expect(apply([created, set('k', '\x80', 50_000)], [{ op: 'setBit', key: 'k', offset: 0, bit: 0 }])).toMatchObject({ events: [e.set('k', '\0', 50_000)], results: [1] });
    expect(apply([created, set('k', '\x80')], [{ op: 'setBit', key: 'k', offset: 0, bit: 1 }])).toMatchObject({ events: [], results: [1] });
    expect(apply([created, set('k', '\x80')], [{ op: 'setBit', key: 'k', offset: 7, bit: 1 }])).toMatchObject({ events: [e.set('k', '\x81')], results: [0] });
    expect(apply([created], [{ op: 'setBit', key: 'n', offset: 80, bit: 1 }], { maxValueBytes: 10 }).results).toEqual(['error VALUE_TOO_LARGE']);
    expect(apply([created], [{ op: 'setBit', key: 'n', offset: 2 ** 32 * 8, bit: 1 }]).results).toEqual(['error VALUE_TOO_LARGE']);
  });
});

describe('ApplyOperations: incrBy (INCR, INCRBY, DECR, DECRBY)', () => {
  const incr = (history: CacheEvent[], amount: bigint, key = 'n') => apply(history, [{ op: 'incrBy', key, amount }]);

  it('adds exactly beyond 2^53, keeps the expiry, and a new key gets the cache default TTL', () => {
    expect(incr([created, set('n', '9007199254740993', 50_000)], 2n)).toMatchObject({ events: [e.set('n', '9007199254740995', 50_000)], results: [9007199254740995n] });
    expect(incr([created, settings({ ttlSeconds: 5 })], -3n)).toMatchObject({ events: [e.set('n', '-3', NOW + 5_000)], results: [-3n] });
  });

  it('a value that is not a canonical 64-bit integer is NOT_A_NUMBER (Redis: 007, -0, +1 and 2^63 are not integers)', () => {
    for (const text of ['007', '-0', '+1', ' 1', '1.0', '', 'abc', '9223372036854775808', '-9223372036854775809']) {
      expect([text, incr([created, set('n', text)], 1n).results]).toEqual([text, ['error NOT_A_NUMBER']]);
    }
    expect(incr([created, set('n', '0')], 1n).results).toEqual([1n]);
    expect(incr([created, set('n', '-10')], 1n).results).toEqual([-9n]);
  });

  it('an overflow is NUMBER_OUT_OF_RANGE; an amount beyond 64 bits is NOT_A_NUMBER', () => {
    expect(incr([created, set('n', '9223372036854775807')], 1n).results).toEqual(['error NUMBER_OUT_OF_RANGE']);
    expect(incr([created, set('n', '-9223372036854775808')], -1n).results).toEqual(['error NUMBER_OUT_OF_RANGE']);
    expect(incr([created], 2n ** 63n).results).toEqual(['error NOT_A_NUMBER']);
  });
});

describe('ApplyOperations: incrByFloat (INCRBYFLOAT)', () => {
  it('writes the result as Redis does and keeps the expiry', () => {
    expect(apply([created, set('f', '10.50', 50_000)], [{ op: 'incrByFloat', key: 'f', amount: 0.1 }])).toMatchObject({
      events: [e.set('f', '10.6', 50_000)],
      results: ['10.6'],
    });
    expect(apply([created, set('f', '5.0e3')], [{ op: 'incrByFloat', key: 'f', amount: 2.0e3 }]).results).toEqual(['7000']);
  });
});

describe('ApplyOperations: rename and copy (RENAME, RENAMENX, COPY)', () => {
  const history = [created, set('a', 'va', 50_000), set('b', 'vb')];

  it('rename moves the value and expiry: Deleted(from) then Set(to), overwriting the target', () => {
    expect(apply(history, [{ op: 'rename', from: 'a', to: 'b', onlyIfAbsent: false }])).toMatchObject({ events: [e.deleted('a'), e.set('b', 'va', 50_000)], results: [true] });
    expect(apply(history, [{ op: 'rename', from: 'a', to: 'c', onlyIfAbsent: true }])).toMatchObject({ events: [e.deleted('a'), e.set('c', 'va', 50_000)], results: [true] });
  });

  it('rename: a missing source is KEY_NOT_FOUND; NX onto a present key and a key onto itself (NX) answer false, RENAME onto itself true', () => {
    expect(apply(history, [{ op: 'rename', from: 'x', to: 'b', onlyIfAbsent: false }]).results).toEqual(['error KEY_NOT_FOUND']);
    expect(apply(history, [{ op: 'rename', from: 'x', to: 'x', onlyIfAbsent: false }]).results).toEqual(['error KEY_NOT_FOUND']);
    expect(apply(history, [{ op: 'rename', from: 'a', to: 'b', onlyIfAbsent: true }])).toMatchObject({ events: [], results: [false] });
    expect(apply(history, [{ op: 'rename', from: 'a', to: 'a', onlyIfAbsent: false }])).toMatchObject({ events: [], results: [true] });
    expect(apply(history, [{ op: 'rename', from: 'a', to: 'a', onlyIfAbsent: true }])).toMatchObject({ events: [], results: [false] });
  });

  it('rename at capacity evicts nothing (the source makes room)', () => {
    expect(apply([created, settings({ capacity: 2 }), set('a', '1'), set('b', '2')], [{ op: 'rename', from: 'a', to: 'c', onlyIfAbsent: false }]).events).toEqual([
      e.deleted('a'),
      e.set('c', '1'),
    ]);
  });

  it('copy writes a Set of the target with the source’s expiry; false for a missing source or a present target without replace', () => {
    expect(apply(history, [{ op: 'copy', from: 'a', to: 'c', replace: false }])).toMatchObject({ events: [e.set('c', 'va', 50_000)], results: [true] });
    expect(apply(history, [{ op: 'copy', from: 'a', to: 'b', replace: false }])).toMatchObject({ events: [], results: [false] });
    expect(apply(history, [{ op: 'copy', from: 'a', to: 'b', replace: true }])).toMatchObject({ events: [e.set('b', 'va', 50_000)], results: [true] });
    expect(apply(history, [{ op: 'copy', from: 'x', to: 'c', replace: true }])).toMatchObject({ events: [], results: [false] });
  });

  it('copy onto itself is INVALID_ARGUMENT (Redis: source and destination objects are the same), even for a missing key', () => {
    expect(apply(history, [{ op: 'copy', from: 'a', to: 'a', replace: true }]).results).toEqual(['error INVALID_ARGUMENT']);
    expect(apply(history, [{ op: 'copy', from: 'x', to: 'x', replace: false }]).results).toEqual(['error INVALID_ARGUMENT']);
  });

  it('copy at capacity evicts the least recently used key', () => {
    expect(apply([created, settings({ capacity: 2 }), set('a', '1'), set('b', '2')], [{ op: 'copy', from: 'b', to: 'c', replace: false }]).events).toEqual([
      e.evicted('a'),
      e.set('c', '2'),
    ]);
  });
});

describe('ApplyOperations: flush (FLUSHDB)', () => {
  it('one Flushed when the cache has entries (expired ones too); nothing otherwise', () => {
    expect(apply([created, set('k', 'v', 500)], [{ op: 'flush' }])).toMatchObject({ events: [e.flushed()], results: [true] });
    expect(apply([created], [{ op: 'flush' }])).toMatchObject({ events: [], results: [true] });
    expect(apply([], [{ op: 'flush' }])).toMatchObject({ events: [], results: [true] });
  });
});

describe('ApplyOperations: one command (MULTI/EXEC, MSET, MSETNX)', () => {
  it('an op that fails appends nothing and the others still apply', () => {
    const { events, results } = apply([created, set('s', 'text')], [
      { op: 'incrBy', key: 's', amount: 1n },
      { op: 'set', key: 'k', value: bytes('v'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'incrBy', key: 'n', amount: 2n },
      { op: 'incrBy', key: 'n', amount: 3n },
    ]);
    expect(events).toEqual([e.set('k', 'v'), e.set('n', '2'), e.set('n', '5')]);
    expect(results).toEqual(['error NOT_A_NUMBER', { applied: true, previous: null }, 2n, 5n]);
  });

  it('creates the cache once, before the first value it stores', () => {
    const { events } = apply([], [
      { op: 'read', key: 'a' },
      { op: 'set', key: 'a', value: bytes('1'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'set', key: 'b', value: bytes('2'), expiry: { kind: 'default' }, when: 'always' },
    ]);
    expect(events).toEqual([e.created(), e.set('a', '1'), e.set('b', '2')]);
  });

  it('WATCH: decides nothing and answers aborted when a watched key changed, was written or expired since', () => {
    const history = [created, set('w', 'v', 50_000)];
    const ops: KeyOperation[] = [{ op: 'set', key: 'x', value: bytes('1'), expiry: { kind: 'default' }, when: 'always' }];
    expect(apply(history, ops, { watch: [{ key: 'w', version: 2 }, { key: 'absent', version: null }] })).toMatchObject({ events: [e.set('x', '1')], aborted: false });
    expect(apply(history, ops, { watch: [{ key: 'w', version: 1 }] })).toMatchObject({ events: [], results: [], aborted: true });
    expect(apply(history, ops, { watch: [{ key: 'absent', version: 7 }] })).toMatchObject({ events: [], aborted: true });
    expect(apply(history, ops, { watch: [{ key: 'w', version: null }] })).toMatchObject({ events: [], aborted: true });
    expect(apply(history, ops, { watch: [{ key: 'w', version: 2 }], now: 50_000 })).toMatchObject({ events: [], aborted: true }); // expired since
    const expireChanged = [...history, { ...at(3), type: 'ExpiryChanged', key: 'w', expiresAt: 0 } as CacheEvent];
    expect(apply(expireChanged, ops, { watch: [{ key: 'w', version: 2 }] })).toMatchObject({ events: [], aborted: true });
  });

  it('quota: bounds the growth of all ops together; an op beyond what is left fails, later smaller ones apply, freed bytes count', () => {
    const op = (key: string, text: string): KeyOperation => ({ op: 'set', key, value: bytes(text), expiry: { kind: 'default' }, when: 'always' });
    const { events, results } = apply([created, set('big', '1234567890')], [op('a', '123'), op('b', '123'), op('c', '12'), { op: 'delete', key: 'big' }, op('d', '123456789')], {
      quotaRemaining: 5,
    });
    expect(results).toEqual([
      { applied: true, previous: null },
      'error QUOTA_EXCEEDED',
      { applied: true, previous: null },
      true,
      { applied: true, previous: null },
    ]);
    expect(events).toEqual([e.set('a', '123'), e.set('c', '12'), e.deleted('big'), e.set('d', '123456789')]);
  });

  it('quota: an overwrite counts only what it adds; a refused first write leaves the cache to be created by the next', () => {
    expect(apply([created, set('k', '12345')], [{ op: 'append', key: 'k', value: bytes('6') }], { quotaRemaining: 0 }).results).toEqual(['error QUOTA_EXCEEDED']);
    expect(apply([created, set('k', '12345')], [{ op: 'setRange', key: 'k', offset: 0, value: bytes('99') }], { quotaRemaining: 0 }).results).toEqual([5]);
    const { events, results } = apply([], [
      { op: 'set', key: 'a', value: bytes('123'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'set', key: 'b', value: bytes('1'), expiry: { kind: 'default' }, when: 'always' },
    ], { quotaRemaining: 2 });
    expect(results).toEqual(['error QUOTA_EXCEEDED', { applied: true, previous: null }]);
    expect(events).toEqual([e.created(), e.set('b', '1')]);
  });

  it('tells which ops may create the cache', () => {
    expect(operationsMayCreate([{ op: 'read', key: 'k' }, { op: 'keys' }, { op: 'delete', key: 'k' }, { op: 'expire', key: 'k', at: 0 }, { op: 'flush' }])).toBe(false);
    for (const op of [
      { op: 'set', key: 'k', value: bytes('v'), expiry: { kind: 'default' }, when: 'always' },
      { op: 'append', key: 'k', value: bytes('v') },
      { op: 'setRange', key: 'k', offset: 0, value: bytes('v') },
      { op: 'setBit', key: 'k', offset: 0, bit: 1 },
      { op: 'incrBy', key: 'k', amount: 1n },
      { op: 'incrByFloat', key: 'k', amount: 1 },
      { op: 'rename', from: 'a', to: 'b', onlyIfAbsent: false },
      { op: 'copy', from: 'a', to: 'b', replace: false },
    ] as KeyOperation[]) {
      expect([op.op, operationsMayCreate([{ op: 'keys' }, op])]).toEqual([op.op, true]);
    }
  });
});

describe('ApplyOperations: replay is deterministic (property)', () => {
  const KEYS = ['a', 'b', 'c'];
  const key = fc.constantFrom(...KEYS);
  const time = fc.constantFrom(0, NOW - 1, NOW, NOW + 1, 5_000, 9_000);
  const opArb: fc.Arbitrary<KeyOperation> = fc.oneof(
    fc.record({ key, value: fc.uint8Array({ maxLength: 4 }), kind: fc.constantFrom('default', 'keep', 'none', 'at'), at: time, when: fc.constantFrom('always', 'absent', 'present') }).map(
      ({ key, value, kind, at, when }) =>
        ({ op: 'set', key, value: Buffer.from(value), expiry: kind === 'at' ? { kind, at } : { kind }, when }) as KeyOperation,
    ),
    key.map((key) => ({ op: 'delete', key }) as KeyOperation),
    fc.record({ key, at: time, condition: fc.constantFrom(undefined, 'nx', 'xx', 'gt', 'lt') }).map(({ key, at, condition }) =>
      at === 0 ? ({ op: 'expire', key, at } as KeyOperation) : ({ op: 'expire', key, at, ...(condition ? { condition } : {}) } as KeyOperation),
    ),
    fc.record({ key, value: fc.uint8Array({ maxLength: 3 }) }).map(({ key, value }) => ({ op: 'append', key, value: Buffer.from(value) }) as KeyOperation),
    fc.record({ key, offset: fc.nat(6), value: fc.uint8Array({ maxLength: 3 }) }).map(({ key, offset, value }) => ({ op: 'setRange', key, offset, value: Buffer.from(value) }) as KeyOperation),
    fc.record({ key, offset: fc.nat(20), bit: fc.constantFrom(0 as const, 1 as const) }).map(({ key, offset, bit }) => ({ op: 'setBit', key, offset, bit }) as KeyOperation),
    fc.record({ key, amount: fc.bigInt({ min: -5n, max: 5n }) }).map(({ key, amount }) => ({ op: 'incrBy', key, amount }) as KeyOperation),
    fc.record({ key, amount: fc.constantFrom(0.1, -2.5, 3) }).map(({ key, amount }) => ({ op: 'incrByFloat', key, amount }) as KeyOperation),
    fc.record({ from: key, to: key, onlyIfAbsent: fc.boolean() }).map((op) => ({ op: 'rename', ...op }) as KeyOperation),
    fc.record({ from: key, to: key, replace: fc.boolean() }).map((op) => ({ op: 'copy', ...op }) as KeyOperation),
    fc.constant({ op: 'flush' } as KeyOperation),
  );
  const historyArb = fc.record({
    capacity: fc.constantFrom(0, 0, 2),
    ttlSeconds: fc.constantFrom(0, 0, 3),
    live: fc.boolean(),
    entries: fc.array(fc.record({ key, value: fc.constantFrom('', '1', '2.5', 'xyz'), expiresAt: fc.constantFrom(0, 0, 500, 5_000) }), { maxLength: 4 }),
  });

  const comparable = (state: CacheState) => ({
    status: state.status,
    version: state.version,
    bytes: state.bytes,
    entries: [...state.entries.entries()].map(([k, entry]) => [k, Buffer.from(entry.value).toString('hex'), entry.expiresAt, entry.version]),
  });

  it('the ops see exactly the state their events replay to; bytes always equal the values held; the quota is kept', () => {
    fc.assert(
      fc.property(historyArb, fc.array(opArb, { minLength: 1, maxLength: 8 }), fc.option(fc.nat(12), { nil: undefined }), (h, ops, quotaRemaining) => {
        const history: CacheEvent[] = h.live
          ? [created, settings({ capacity: h.capacity, ttlSeconds: h.ttlSeconds }), ...h.entries.map((x) => set(x.key, x.value, x.expiresAt))]
          : [];
        const before = history.reduce(evolve, initialState());
        const probe: KeyOperation[] = [{ op: 'keys' }, ...KEYS.map((k) => ({ op: 'read', key: k }) as KeyOperation)];
        const decision = given(history).when({ ...who, type: 'ApplyOperations', ops: [...ops, ...probe], ...(quotaRemaining !== undefined ? { quotaRemaining } : {}) }, NOW).decision;
        if (!decision.ok) throw new Error('refused');
        const replayed = [...history, ...decision.events].reduce(evolve, initialState());
        // What the trailing reads saw on the draft is what the journaled events replay to.
        const seen = decision.results!.slice(ops.length);
        expect(seen[0]).toEqual({ ok: true, value: [...replayed.entries.keys()].filter((k) => liveEntry(replayed, k, NOW) !== undefined) });
        KEYS.forEach((k, i) => {
          const result = seen[i + 1];
          const entry = liveEntry(replayed, k, NOW);
          expect(result.ok && result.value && entryText(result.value as Entry)).toEqual(entry ? entryText(entry) : null);
        });
        let held = 0;
        for (const [, entry] of replayed.entries.entries()) held += entry.value.byteLength;
        expect(replayed.bytes).toBe(held);
        expect(replayed.version).toBe(before.version + decision.events.length);
        const capacity = before.settings.capacity;
        if (capacity > 0) expect(replayed.entries.size).toBeLessThanOrEqual(Math.max(capacity, before.entries.size));
        if (quotaRemaining !== undefined) expect(replayed.bytes - before.bytes).toBeLessThanOrEqual(quotaRemaining);
        // The decision did not touch the state it was decided on.
        expect(comparable(given(history).state)).toEqual(comparable(before));
      }),
      { numRuns: 400, seed: 20261207 },
    );
  });
});
