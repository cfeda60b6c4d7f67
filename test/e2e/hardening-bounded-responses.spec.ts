import { EventStreamService } from '../../src/api/history/event-stream.service';
import { RawConnection, sleep } from '../support/raw-socket';
import { SseClient } from '../support/sse';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The hardening pass (responses with no byte bound): a multi-value answer is measured before
 * it is built and refused with 413 RESPONSE_TOO_LARGE beyond MAX_RESPONSE_BYTES; event pages
 * stop at EVENTS_PAGE_MAX_BYTES with a cursor; SSE clients are dropped past SSE_QUEUE_BYTES and
 * capped per org; point-in-time reads refuse to replay more than POINT_IN_TIME_MAX_EVENTS.
 * Another org is answered in bounded time while the attacks run.
 */
const MiB = 1024 * 1024;
const VALUE = Buffer.alloc(256 * 1024, 7);


/** Opens a stream again until it is not 429 (a closed stream's slot is freed once its socket ends), for up to 2.5 s. */
async function statusOnceSlotFree(open: () => Promise<SseClient>): Promise<number> {
  let status = 429;
  for (let i = 0; i < 50 && status === 429; i++) {
    await sleep(50);
    const again = await open();
    status = again.status;
    again.close();
  }
  return status;
}

describe('batch get and listings are bounded in bytes', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'attacker' });
  const bystander = tokenFor({ org: 'bystander' });
  beforeAll(async () => {
    app = await startTestApp({ env: { MAX_RESPONSE_BYTES: String(MiB), MAX_VALUE_BYTES: String(VALUE.length), JOURNAL_SYNC: 'none' } });
    expect((await http(`${app.url}/big/k`, { method: 'POST', token, body: VALUE })).status).toBe(201);
    expect((await http(`${app.url}/mine/k`, { method: 'POST', token: bystander, body: Buffer.from('mine') })).status).toBe(201);
  });
  afterAll(() => app.dispose());

  it('POST /batch/get of many copies of a large value is 413 RESPONSE_TOO_LARGE, while another org is answered', async () => {
    const body = { getCachedBatch: Array.from({ length: 100 }, () => ({ cacheName: 'big', key: 'k' })) };
    const attacks = Promise.all(Array.from({ length: 4 }, () => http(`${app.url}/batch/get`, { method: 'POST', token, body })));
    const started = Date.now();
    expect((await http(`${app.url}/mine/k`, { token: bystander })).text).toBe('mine');
    expect(Date.now() - started).toBeLessThan(5000);
    for (const answer of await attacks) {
      expect(answer.status).toBe(413);
      expect(answer.json()).toEqual({ code: 'RESPONSE_TOO_LARGE', message: expect.stringContaining('MAX_RESPONSE_BYTES') });
    }
  });

  it('a batch get within the bound is answered in full', async () => {
    const answer = await http(`${app.url}/batch/get`, { method: 'POST', token, body: { getCachedBatch: [{ cacheName: 'big', key: 'k' }, { cacheName: 'big', key: 'k' }, { cacheName: 'big', key: 'nope' }] } });
    expect(answer.status).toBe(200);
    expect(answer.json().results.map((r: { success: boolean }) => r.success)).toEqual([true, true, false]);
    expect(Buffer.from(answer.json().results[0].value, 'base64').equals(VALUE)).toBe(true);
  });

  it('a key listing over MAX_RESPONSE_BYTES is 413, now and at a point in time', async () => {
    const keys = Array.from({ length: 1100 }, (_, i) => `${String(i).padStart(4, '0')}${'k'.repeat(1000)}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => http(`${app.url}/set`, { method: 'POST', token, body: { cacheName: 'many-keys', key, value: '' } })));
    }
    const now = await http(`${app.url}/cacheName/many-keys/keys`, { token });
    expect(now.status).toBe(413);
    expect(now.json().code).toBe('RESPONSE_TOO_LARGE');
    const then = await http(`${app.url}/cacheName/many-keys/keys?asOf=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token });
    expect(then.status).toBe(413);
  });

  it('a cache name listing over MAX_RESPONSE_BYTES is 413', async () => {
    const lister = tokenFor({ org: 'many-names' });
    for (let i = 0; i < 260; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => http(`${app.url}/cacheName`, { method: 'POST', token: lister, body: { cacheName: `n${i + j}`, description: 'd'.repeat(4096) } })),
      );
    }
    const list = await http(`${app.url}/cacheName/list`, { token: lister });
    expect(list.status).toBe(413);
    expect(list.json().code).toBe('RESPONSE_TOO_LARGE');
  });
});

describe('batch element count and body bytes are bounded', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  beforeAll(async () => (app = await startTestApp({ env: { MAX_BATCH_ELEMENTS: '5', MAX_BATCH_BODY_BYTES: String(64 * 1024) } })));
  afterAll(() => app.dispose());

  it('more than MAX_BATCH_ELEMENTS elements is 400 on every batch route, and nothing is written', async () => {
    const element = (i: number) => ({ cacheName: 'b', key: `k${i}`, value: 'MQ==' });
    const six = Array.from({ length: 6 }, (_, i) => element(i));
    const set = await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests: six } });
    expect(set.status).toBe(400);
    expect(set.json().message).toMatch(/MAX_BATCH_ELEMENTS/);
    expect((await http(`${app.url}/batch/get`, { method: 'POST', token, body: { getCachedBatch: six } })).status).toBe(400);
    expect((await http(`${app.url}/batch`, { method: 'DELETE', token, body: { getCachedBatch: six } })).status).toBe(400);
    expect((await http(`${app.url}/cacheName/b`, { token })).status).toBe(400);
    expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests: six.slice(0, 5) } })).json().complete).toBe(true);
  });

  it('a batch body over MAX_BATCH_BODY_BYTES is 413', async () => {
    const big = { cacheRequests: [{ cacheName: 'b', key: 'big', value: Buffer.alloc(60 * 1024).toString('base64') }] };
    const answer = await http(`${app.url}/batch`, { method: 'POST', token, body: big });
    expect(answer.status).toBe(413);
    expect(answer.json().code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('event pages and streams are bounded in bytes', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  beforeAll(
    async () =>
      (app = await startTestApp({
        env: { EVENTS_PAGE_MAX_BYTES: String(MiB), SSE_QUEUE_BYTES: String(512 * 1024), SSE_MAX_CLIENTS_PER_ORG: '2', MAX_VALUE_BYTES: String(VALUE.length), JOURNAL_SYNC: 'none' },
      })),
  );
  afterAll(() => app.dispose());

  it('GET .../events?limit=1000 over large events answers fewer events and a cursor, never a 500; following it reads them all', async () => {
    for (let i = 0; i < 12; i++) expect((await http(`${app.url}/large/k${i}`, { method: 'POST', token, body: VALUE })).status).toBe(201);
    const seqs: number[] = [];
    let from = 1;
    for (let pages = 0; pages < 20; pages++) {
      const page = await http(`${app.url}/cacheName/large/events?from=${from}&limit=1000`, { token });
      expect(page.status).toBe(200);
      const { events, next, hasMore, highestSeq } = page.json();
      expect(events.length).toBeGreaterThan(0);
      expect(page.body.length).toBeLessThan(MiB + 64 * 1024);
      seqs.push(...events.map((e: { seq: number }) => e.seq));
      if (!hasMore) {
        expect(seqs).toEqual(Array.from({ length: highestSeq }, (_, i) => i + 1));
        expect(pages).toBeGreaterThan(0); // more than one page was needed
        return;
      }
      from = next;
    }
    throw new Error('the pages never ended');
  });

  it('an SSE client that does not read is dropped once SSE_QUEUE_BYTES wait, long before HISTORY_STREAM_BUFFER events', async () => {
    const streams = app.app.get(EventStreamService);
    const socket = await RawConnection.open(app.url);
    socket.write(`GET /cacheName/stalled/events/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n\r\n`);
    await http(`${app.url}/stalled/k`, { method: 'POST', token, body: Buffer.from('1') });
    await socket.until(() => socket.text.includes('id: 1'), 5000);
    socket.socket.pause(); // stop reading: the kernel buffers fill, then the session's queue
    let writes = 0;
    while (streams.openSessions > 0 && writes < 100) {
      await http(`${app.url}/stalled/k`, { method: 'POST', token, body: VALUE });
      writes++;
    }
    expect(streams.openSessions).toBe(0);
    expect(writes).toBeLessThan(100); // 100 events is far below HISTORY_STREAM_BUFFER's 1000
    socket.socket.resume();
    await socket.closedWithin(10_000);
    expect(socket.text).toMatch(/event: end\ndata: \{"reason":"slow-consumer".*SSE_QUEUE_BYTES/);
  });

  it('more than SSE_MAX_CLIENTS_PER_ORG streams of one org is 429; another org still opens one', async () => {
    await http(`${app.url}/s/k`, { method: 'POST', token, body: Buffer.from('1') });
    const open = () => SseClient.open(`${app.url}/cacheName/s/events/stream`, { authorization: `Bearer ${token}` });
    const first = await open();
    const second = await open();
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await http(`${app.url}/cacheName/s/events/stream`, { token });
    expect(third.status).toBe(429);
    expect(third.json()).toEqual({ code: 'TOO_MANY_STREAMS', message: expect.stringContaining('SSE_MAX_CLIENTS_PER_ORG') });

    const other = tokenFor({ org: 'other' });
    await http(`${app.url}/s/k`, { method: 'POST', token: other, body: Buffer.from('1') });
    const theirs = await SseClient.open(`${app.url}/cacheName/s/events/stream`, { authorization: `Bearer ${other}` });
    expect(theirs.status).toBe(200);
    theirs.close();

    first.close();
    expect(await statusOnceSlotFree(() => SseClient.open(`${app.url}/cacheName/s/events/stream`, { authorization: `Bearer ${token}` }))).toBe(200);
    second.close();
  });
});

describe('point-in-time reads bound the events they replay', () => {
  let app: TestApp;
  const token = tokenFor({ org: 'acme' });
  beforeAll(async () => {
    app = await startTestApp({ env: { POINT_IN_TIME_MAX_EVENTS: '50', SNAPSHOT_EVERY: '100', JOURNAL_SYNC: 'none' } });
    for (let i = 1; i <= 120; i++) await http(`${app.url}/pit/k`, { method: 'POST', token, body: Buffer.from(String(i)) });
  });
  afterAll(() => app.dispose());

  it('a point that needs more than POINT_IN_TIME_MAX_EVENTS events is 422 POINT_IN_TIME_TOO_COSTLY on every read', async () => {
    for (const path of ['/pit/k?at=90', '/get/pit/k?at=90', '/cacheName/pit/keys?at=90', '/pit/k?asOf=2000-01-01T00:00:00Z']) {
      const answer = await http(`${app.url}${path}`, { token });
      expect({ path, status: answer.status }).toEqual({ path, status: 422 });
      expect(answer.json()).toEqual({ code: 'POINT_IN_TIME_TOO_COSTLY', message: expect.stringContaining('POINT_IN_TIME_MAX_EVENTS') });
    }
  });

  it('the ETag check of a time point scans no further than the read would: If-None-Match does not turn it into a 304', async () => {
    const answer = await http(`${app.url}/pit/k?asOf=2000-01-01T00:00:00Z`, { token, headers: { 'if-none-match': '*' } });
    expect(answer.status).toBe(422);
  });

  it('points within the bound (near the start, or near a snapshot) are answered', async () => {
    // seq 1 is the cache's creation, seq 2 the first value
    expect((await http(`${app.url}/pit/k?at=31`, { token })).text).toBe('30');
    expect((await http(`${app.url}/pit/k?at=115`, { token })).text).toBe('114');
    expect((await http(`${app.url}/pit/k?asOf=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token })).text).toBe('120');
  });
});

describe('event streams per token', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp({ env: { SSE_MAX_CLIENTS_PER_TOKEN: '1', SSE_MAX_CLIENTS_PER_ORG: '4' } })));
  afterAll(() => app.dispose());

  it('one token may hold SSE_MAX_CLIENTS_PER_TOKEN streams: one more is 429, another token of the same org still opens one', async () => {
    const ann = tokenFor({ org: 'acme', name: 'ann' });
    const bob = tokenFor({ org: 'acme', name: 'bob' });
    await http(`${app.url}/s/k`, { method: 'POST', token: ann, body: Buffer.from('1') });
    const open = (token: string) => SseClient.open(`${app.url}/cacheName/s/events/stream`, { authorization: `Bearer ${token}` });
    const first = await open(ann);
    expect(first.status).toBe(200);
    const again = await http(`${app.url}/cacheName/s/events/stream`, { token: ann });
    expect(again.status).toBe(429);
    expect(again.json()).toEqual({ code: 'TOO_MANY_STREAMS', message: expect.stringContaining('SSE_MAX_CLIENTS_PER_TOKEN') });
    const other = await open(bob);
    expect(other.status).toBe(200);
    other.close();
    first.close();
    // The slot is handed back when the stream ends.
    expect(await statusOnceSlotFree(() => open(ann))).toBe(200);
  });
});
