import { CacheGateway } from '../../src/core/cache-gateway';
import { requestContext } from '../../src/core/request-context';
import { CacheCommand } from '../../src/domain';
import { TestApp, startTestApp } from '../support/test-app';

/** The core's one door, driven without any transport: a real app over LevelDB in a temp dir. */
describe('CacheGateway', () => {
  let app: TestApp;
  let gateway: CacheGateway;
  const alice = requestContext({ org: 'org-a', name: 'alice', serviceLevel: 'free' }, 'redis', 'laptop');
  const bob = requestContext({ org: 'org-b', name: 'bob', serviceLevel: 'free' }, 'native');
  const set = (key: string, value: string | Uint8Array): CacheCommand => ({
    type: 'SetValue',
    key,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    by: 'alice',
    device: 'laptop',
  });

  beforeAll(async () => {
    app = await startTestApp({
      env: { MAX_VALUE_BYTES: '64', MAX_CACHES_PER_ORG: '2', ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' },
    });
    gateway = app.app.get(CacheGateway);
  });
  afterAll(() => app.dispose());

  it('executes a command for a context and reads it back, synchronously once the cache is ready', async () => {
    const reply = await gateway.ask(alice, 'c1', set('k', 'v1'));
    expect(reply.ok).toBe(true);
    const state = gateway.stateNow(alice, 'c1');
    expect(state).not.toBeInstanceOf(Promise);
    const entry = gateway.useEntryNow(alice, 'c1', 'k');
    expect(entry).not.toBeInstanceOf(Promise);
    expect(Buffer.from((entry as { value: Uint8Array }).value).toString()).toBe('v1');
    expect(reply.ok && reply.envelopes.at(-1)!.event).toMatchObject({ type: 'Set', by: 'alice', device: 'laptop' });
    expect(await gateway.keys(alice, 'c1')).toEqual(['k']);
  });

  it('keeps tenants apart: another org sees no such cache', async () => {
    expect(await gateway.keys(bob, 'c1')).toBeUndefined();
    expect(await gateway.useEntryNow(bob, 'c1', 'k')).toBeUndefined();
    expect((await gateway.cacheNames(bob)).map((row) => row.cacheName)).toStrictEqual([]);
    expect((await gateway.cacheNames(alice)).map((row) => row.cacheName)).toEqual(['c1']);
  });

  it('refuses a value over MAX_VALUE_BYTES before the entity, writing nothing', async () => {
    const before = (await gateway.state(alice, 'c1')).version;
    const reply = await gateway.ask(alice, 'c1', set('big', new Uint8Array(65)));
    expect(reply).toEqual({ ok: false, error: expect.objectContaining({ code: 'VALUE_TOO_LARGE' }) });
    expect((await gateway.state(alice, 'c1')).version).toBe(before);
  });

  it('holds the org byte quota of the principal’s service level', async () => {
    const reply = await gateway.ask(alice, 'c1', set('fill', new Uint8Array(60)));
    expect(reply.ok).toBe(true);
    const over = await gateway.ask(alice, 'c1', set('more', new Uint8Array(60)));
    expect(over).toEqual({ ok: false, error: expect.objectContaining({ code: 'QUOTA_EXCEEDED' }) });
  });

  it('holds the number of caches per org, and refuses in the admission list’s order', async () => {
    expect((await gateway.ask(bob, 'b1', set('k', 'v'))).ok).toBe(true);
    expect((await gateway.ask(bob, 'b2', set('k', 'v'))).ok).toBe(true);
    const third = await gateway.ask(bob, 'b3', set('k', 'v'));
    expect(third).toEqual({ ok: false, error: expect.objectContaining({ code: 'CACHE_LIMIT_REACHED' }) });
    // Too large and over the cache limit at once: the value-size check comes first, for every family.
    const both = await gateway.ask(bob, 'b3', set('k', new Uint8Array(65)));
    expect(both).toEqual({ ok: false, error: expect.objectContaining({ code: 'VALUE_TOO_LARGE' }) });
    expect(gateway.admission.checks.map((check) => check.name)).toEqual(['value size']);
    expect(await gateway.keys(bob, 'b3')).toBeUndefined();
  });
});

describe('CacheGateway and key operations', () => {
  let app: TestApp;
  let gateway: CacheGateway;
  const ctx = requestContext({ org: 'org-ops', name: 'ops', serviceLevel: 'free' }, 'redis');

  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_VALUE_BYTES: '8' } });
    gateway = app.app.get(CacheGateway);
  });
  afterAll(() => app.dispose());

  it('bounds what appends make of a value by MAX_VALUE_BYTES, not only the bytes sent', async () => {
    const append = (value: string): CacheCommand => ({ type: 'ApplyOperations', ops: [{ op: 'append', key: 'a', value: Buffer.from(value) }], by: 'ops' });
    const first = await gateway.ask(ctx, 'c', append('12345'));
    expect(first).toMatchObject({ ok: true, results: [{ ok: true, value: 5 }] });
    const second = await gateway.ask(ctx, 'c', append('6789'));
    expect(second).toMatchObject({ ok: true, results: [{ ok: false, error: { code: 'VALUE_TOO_LARGE' } }] });
    const entry = await gateway.useEntryNow(ctx, 'c', 'a');
    expect(Buffer.from(entry!.value).toString()).toBe('12345');
  });
});
