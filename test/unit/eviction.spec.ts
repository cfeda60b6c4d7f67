import { CacheEvent, DEFAULT_SETTINGS, decide, draftOf, evolve, initialState, touch } from '../../src/domain';
import { CompactEntryMap } from '../../src/domain/compact-entry-map';
import { decodeState, encodeState } from '../../src/journal/codec';
import { at, given } from '../support/given-when-then';

const bytes = (text: string) => Buffer.from(text);
const created: CacheEvent = { ...at(1), type: 'Created', description: '' };
const capacity = (n: number): CacheEvent => ({ ...at(2), type: 'SettingsChanged', ...DEFAULT_SETTINGS, capacity: n });
const set = (key: string, ms = 3): CacheEvent => ({ ...at(ms), type: 'Set', key, value: bytes(key), expiresAt: 0 });
const who = { by: 'tester' };

describe('decide: LRU eviction at capacity (recency = reads and writes)', () => {
  it('a new key beyond capacity evicts the least recently written key first', () => {
    given([created, capacity(2), set('a'), set('b')]).when({ ...who, type: 'SetValue', key: 'c', value: bytes('c') }).then([
      { ...at(1_000), type: 'Evicted', key: 'a' },
      { ...at(1_000), type: 'Set', key: 'c', value: bytes('c'), expiresAt: 0 },
    ]);
  });

  it('overwriting a key makes it the most recently written, so the other key is evicted', () => {
    given([created, capacity(2), set('a'), set('b'), set('a')]).when({ ...who, type: 'SetValue', key: 'c', value: bytes('c') }).then([
      { ...at(1_000), type: 'Evicted', key: 'b' },
      { ...at(1_000), type: 'Set', key: 'c', value: bytes('c'), expiresAt: 0 },
    ]);
  });

  it('a read (touch) makes a key the most recently used: capacity 3, set a,b,c, read a, set d → b is evicted', () => {
    const scenario = given([created, capacity(3), set('a'), set('b'), set('c')]);
    expect(touch(scenario.state, 'a')).toBe(true);
    scenario.when({ ...who, type: 'SetValue', key: 'd', value: bytes('d') }).then([
      { ...at(1_000), type: 'Evicted', key: 'b' },
      { ...at(1_000), type: 'Set', key: 'd', value: bytes('d'), expiresAt: 0 },
    ]);
  });

  it('touch is the same on the entity CompactEntryMap and on a plain Map, and a snapshot keeps it', () => {
    const history = [created, capacity(3), set('a'), set('b'), set('c')];
    const plain = history.reduce(evolve, initialState());
    const compact = history.reduce(evolve, { ...initialState(), entries: new CompactEntryMap() });
    for (const state of [plain, compact]) {
      expect(touch(state, 'a')).toBe(true);
      expect(touch(state, 'missing')).toBe(false);
      expect([...state.entries.keys()]).toEqual(['b', 'c', 'a']);
    }
    const restored = decodeState(encodeState(compact));
    expect([...restored.entries.keys()]).toEqual(['b', 'c', 'a']);
    // Replay alone knows only the writes: what a crash restart falls back to (since the last snapshot).
    expect([...history.reduce(evolve, initialState()).entries.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('an Evicted event is applied as given on replay, whatever the order in memory', () => {
    const state = [created, capacity(3), set('a'), set('b'), set('c')].reduce(evolve, initialState());
    evolve(state, { ...at(5), type: 'Evicted', key: 'c' } as CacheEvent); // c is not the oldest here
    expect([...state.entries.keys()]).toEqual(['a', 'b']);
  });

  it('overwriting an existing key at capacity evicts nothing', () => {
    given([created, capacity(2), set('a'), set('b')]).when({ ...who, type: 'SetValue', key: 'a', value: bytes('x') }).then([
      { ...at(1_000), type: 'Set', key: 'a', value: bytes('x'), expiresAt: 0 },
    ]);
  });

  it('an increment of a new key also makes room', () => {
    given([created, capacity(1), set('a')]).when({ ...who, type: 'Increment', key: 'n', amount: 1n }).then([
      { ...at(1_000), type: 'Evicted', key: 'a' },
      { ...at(1_000), type: 'Set', key: 'n', value: new TextEncoder().encode('1'), expiresAt: 0 },
    ]);
  });

  it('lowering the capacity evicts the oldest keys in the same decision', () => {
    given([created, set('a'), set('b'), set('c'), set('d')]).when({ ...who, type: 'ChangeSettings', settings: { capacity: 2 } }).then([
      { ...at(1_000), type: 'SettingsChanged', ...DEFAULT_SETTINGS, capacity: 2 },
      { ...at(1_000), type: 'Evicted', key: 'a' },
      { ...at(1_000), type: 'Evicted', key: 'b' },
    ]);
  });

  it('Evicted removes the key and its bytes', () => {
    const state = [created, capacity(2), set('a'), set('bb'), { ...at(4), type: 'Evicted', key: 'a' } as CacheEvent].reduce(evolve, initialState());
    expect([...state.entries.keys()]).toEqual(['bb']);
    expect(state.bytes).toBe(2);
  });

  it('a group of commands decided on a draft evicts the same keys as one at a time on the committed state', () => {
    const history = [created, capacity(3), set('a'), set('b'), set('c'), set('a')];
    const committed = history.reduce(evolve, initialState());
    const draft = draftOf(committed);
    const fromDraft: CacheEvent[] = [];
    for (const key of ['d', 'b', 'e', 'f']) {
      const decision = decide(draft, { ...who, type: 'SetValue', key, value: bytes(key) }, 1_000);
      if (!decision.ok) throw new Error('rejected');
      decision.events.forEach((e) => evolve(draft, e));
      fromDraft.push(...decision.events);
    }
    expect(fromDraft.filter((e) => e.type === 'Evicted').map((e) => (e as { key: string }).key)).toEqual(['b', 'c', 'a', 'd']);
    expect([...committed.entries.keys()]).toEqual(['b', 'c', 'a']); // the draft left the committed state alone
    fromDraft.forEach((e) => evolve(committed, e));
    expect([...committed.entries.keys()]).toEqual([...draft.entries.keys()]);
    expect([...committed.entries.keys()]).toEqual(['b', 'e', 'f']);
  });

  it('replay and a snapshot round trip keep the recency order and the settings', () => {
    const history = [created, capacity(3), set('a'), set('b'), set('c'), set('a')];
    const replayed = history.reduce(evolve, initialState());
    const restored = decodeState(encodeState(replayed));
    expect([...restored.entries.keys()]).toEqual(['b', 'c', 'a']);
    expect(restored.settings).toEqual({ ...DEFAULT_SETTINGS, capacity: 3 });
    const next = decide(restored, { ...who, type: 'SetValue', key: 'd', value: bytes('d') }, 1_000);
    expect(next.ok && next.events[0]).toEqual({ ...at(1_000), type: 'Evicted', key: 'b' });
  });
});
