import { CacheState, evolve, initialState, liveEntry } from '../../src/domain';
import { Journal } from '../../src/journal/journal';
import { SnapshotStore } from '../../src/journal/snapshot-store';
import { ManualClock } from '../support/manual-clock';
import { SseClient } from '../support/sse';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('history: events, point-in-time reads, ETags, SSE', () => {
  let app: TestApp;
  const clock = new ManualClock();
  const token = tokenFor({ org: 'acme', name: 'alice' });
  const other = tokenFor({ org: 'umbrella', name: 'mallory' });
  beforeAll(async () => (app = await startTestApp({ clock, env: { SNAPSHOT_EVERY: '4' } })));
  afterAll(() => app.dispose());

  const set = (cacheName: string, key: string, value: string, headers: Record<string, string> = {}) =>
    http(`${app.url}/set`, { method: 'POST', token, body: { cacheName, key, value: b64(value) }, headers });

  it('pages through a cache\'s events with who, when, device, offset and base64 values', async () => {
    for (let i = 1; i <= 5; i++) {
      clock.advance(1000);
      expect((await set('paged', `k${i}`, `v${i}`, { 'x-device-id': 'phone-1' })).status).toBe(201);
    }
    const first = await http(`${app.url}/cacheName/paged/events?limit=4`, { token });
    expect(first.status).toBe(200);
    const page1 = first.json();
    expect(page1.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(page1.events[0]).toMatchObject({ type: 'Created', by: 'alice', device: 'phone-1' });
    expect(page1.events[1]).toMatchObject({ type: 'Set', key: 'k1', value: b64('v1'), by: 'alice', device: 'phone-1', expiresAt: null });
    expect(new Date(page1.events[1].time).getTime()).toBe(Date.UTC(2026, 0, 1) + 1000);
    expect(page1).toMatchObject({ hasMore: true, next: 5, highestSeq: 6 });
    const offsets = page1.events.map((e: { offset: number }) => e.offset);
    expect(offsets.every((o: number, i: number) => typeof o === 'number' && (i === 0 || o > offsets[i - 1]))).toBe(true);

    const page2 = (await http(`${app.url}/cacheName/paged/events?from=${page1.next}&limit=4`, { token })).json();
    expect(page2.events.map((e: { seq: number; key: string }) => [e.seq, e.key])).toEqual([[5, 'k4'], [6, 'k5']]);
    expect(page2).toMatchObject({ hasMore: false, next: 7 });
  });

  it('keeps tenants apart and validates paging input', async () => {
    expect((await http(`${app.url}/cacheName/paged/events`, { token: other })).status).toBe(400);
    expect((await http(`${app.url}/cacheName/paged/events?limit=0`, { token })).json().code).toBe('INVALID_REQUEST');
    expect((await http(`${app.url}/cacheName/paged/events?from=abc`, { token })).status).toBe(400);
    expect((await http(`${app.url}/cacheName/paged/events`)).status).toBe(401);
  });

  it('answers point-in-time reads exactly like a full replay of the journal up to that point', async () => {
    const ops: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) {
      const key = `k${i % 7}`;
      if (i % 11 === 10) ops.push(() => http(`${app.url}/cacheName/pit/flush`, { method: 'PUT', token }));
      else if (i % 5 === 4) ops.push(() => http(`${app.url}/pit/${key}`, { method: 'DELETE', token }));
      else ops.push(() => set('pit', key, `value-${i}`));
    }
    for (const op of ops) {
      clock.advance(500);
      await op();
    }
    const journal = app.app.get(Journal);
    const entityId = { org: 'acme', name: 'pit' };
    const highest = await journal.highestSeq(entityId);
    expect((await app.app.get(SnapshotStore).load(entityId))?.seq).toBeGreaterThan(0); // some reads start from a snapshot

    for (let seq = 1; seq <= highest; seq++) {
      const state: CacheState = initialState();
      for await (const record of journal.replay(entityId, 1, seq)) evolve(state, record.event);
      const keys = await http(`${app.url}/cacheName/pit/keys?at=${seq}`, { token });
      expect(keys.status).toBe(200);
      const expected = [...state.entries.keys()].sort();
      expect(keys.json().keys).toEqual(expected);
      for (let k = 0; k < 7; k++) {
        const got = (await http(`${app.url}/get/pit/k${k}?at=${seq}`, { token })).json();
        const entry = liveEntry(state, `k${k}`, clock.now());
        expect(got.success).toBe(entry !== undefined);
        if (entry) expect(got.value).toBe(Buffer.from(entry.value).toString('base64'));
      }
    }
  });

  it('reads as of a time and serves binary values as they were', async () => {
    clock.advance(10_000);
    await set('asof', 'k', 'old');
    const between = new Date(clock.now() + 500).toISOString();
    clock.advance(1000);
    await set('asof', 'k', 'new');
    expect((await http(`${app.url}/asof/k`, { token })).text).toBe('new');
    expect((await http(`${app.url}/asof/k?asOf=${between}`, { token })).text).toBe('old');
    expect((await http(`${app.url}/get/asof/k?asOf=${between}`, { token })).json()).toMatchObject({ success: true, value: b64('old') });
    expect((await http(`${app.url}/get/asof/k?asOf=2000-01-01T00:00:00Z`, { token })).json().success).toBe(false);
    expect((await http(`${app.url}/get/asof/k?at=99`, { token })).status).toBe(400);
    expect((await http(`${app.url}/get/asof/k?asOf=yesterday`, { token })).json().code).toBe('INVALID_REQUEST');
  });

  it('tags every cache read with the sequence number and answers If-None-Match with 304', async () => {
    await set('tagged', 'k', 'one');
    const first = await http(`${app.url}/get/tagged/k`, { token });
    const etag = first.headers.get('etag');
    expect(etag).toBe('"v2"');
    expect((await http(`${app.url}/tagged/k`, { token })).headers.get('etag')).toBe(etag);
    expect((await http(`${app.url}/cacheName/tagged/keys`, { token })).headers.get('etag')).toBe(etag);
    expect((await http(`${app.url}/cacheName/tagged/events`, { token })).headers.get('etag')).toBe(etag);

    const notModified = await http(`${app.url}/get/tagged/k`, { token, headers: { 'if-none-match': etag! } });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect((await http(`${app.url}/tagged/k`, { token, headers: { 'if-none-match': etag! } })).status).toBe(304);

    await set('tagged', 'k', 'two');
    const changed = await http(`${app.url}/get/tagged/k`, { token, headers: { 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"v3"');

    const past = await http(`${app.url}/get/tagged/k?at=2`, { token });
    expect(past.headers.get('etag')).toBe('"at2"');
    expect((await http(`${app.url}/get/tagged/k?at=2`, { token, headers: { 'if-none-match': '"at2"' } })).status).toBe(304);
    // another org's If-None-Match never reveals this org's version
    expect((await http(`${app.url}/get/tagged/k`, { token: other, headers: { 'if-none-match': '"v3"' } })).status).toBe(200);
  });

  it('streams past events first, then live ones, resuming after Last-Event-ID', async () => {
    await set('live', 'a', '1');
    await set('live', 'b', '2');
    const stream = await SseClient.open(`${app.url}/cacheName/live/events/stream`, { authorization: `Bearer ${token}` });
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toContain('text/event-stream');
      const past = await stream.take(3);
      expect(past.map((m) => [m.id, JSON.parse(m.data).type])).toEqual([['1', 'Created'], ['2', 'Set'], ['3', 'Set']]);
      await set('live', 'c', '3');
      await set('other-cache', 'x', 'not for this stream');
      await set('live', 'd', '4');
      const live = await stream.take(2);
      expect(live.map((m) => [m.id, JSON.parse(m.data).key, JSON.parse(m.data).value])).toEqual([['4', 'c', b64('3')], ['5', 'd', b64('4')]]);
      expect(typeof JSON.parse(live[0].data).offset).toBe('number');
    } finally {
      stream.close();
    }
    const resumed = await SseClient.open(`${app.url}/cacheName/live/events/stream`, { authorization: `Bearer ${token}`, 'last-event-id': '4' });
    try {
      expect((await resumed.take(1)).map((m) => m.id)).toEqual(['5']);
    } finally {
      resumed.close();
    }
  });
});
