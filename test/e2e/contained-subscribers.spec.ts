import { subscribeContained } from '../../src/journal/contained-subscriber';
import { Journal } from '../../src/journal/journal';
import { SseClient } from '../support/sse';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * No error of a live-stream subscriber escapes into the process. rxjs rethrows a subscriber's
 * error on a timer, where it is an uncaught exception: one event an SSE session could not render
 * (a time outside the Date range, as an import or an older build could leave in the journal)
 * ended the whole service. Each subscriber now contains its errors: the one that failed ends
 * (or skips the event) with a logged error; every other subscriber and every request go on.
 */
describe('live-stream subscribers contain their errors', () => {
  let app: TestApp;
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  const METRICS_TOKEN = 'metrics-token-for-the-tests-0123';
  const token = tokenFor({ org: 'sub', name: 'w' });
  const auth = { authorization: `Bearer ${token}` };
  /** An event no renderer can turn into a date: at = 9e15 ms (past the year 275760). */
  const poison = (key: string) => ({ type: 'Set' as const, at: 9e15, by: 'import', device: null, key, value: Buffer.from('v'), expiresAt: 0 });

  beforeAll(async () => {
    process.on('uncaughtException', record);
    app = await startTestApp({ logger: false, env: { METRICS_TOKEN } });
  });
  afterAll(async () => {
    process.off('uncaughtException', record);
    await app.dispose();
  });

  it('an SSE session that cannot render a live event ends with event: end; the process, other streams and requests go on', async () => {
    expect((await http(`${app.url}/healthy/k`, { method: 'POST', token, body: Buffer.from('1') })).status).toBe(201);
    const poisoned = await SseClient.open(`${app.url}/cacheName/poison/events/stream`, auth);
    const healthy = await SseClient.open(`${app.url}/cacheName/healthy/events/stream`, auth);
    expect([poisoned.status, healthy.status]).toEqual([200, 200]);
    expect((await healthy.next())?.id).toBe('1'); // caught up

    await app.app.get(Journal).append({ org: 'sub', name: 'poison' }, 0, [poison('k')]);
    const end = await poisoned.next();
    expect(end?.event).toBe('end');
    expect(JSON.parse(end!.data)).toMatchObject({ reason: 'error' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // rxjs rethrows on a timer

    expect((await http(`${app.url}/healthy/k`, { method: 'POST', token, body: Buffer.from('2') })).status).toBe(201);
    expect((await healthy.next())?.id).toBe('2');
    expect((await http(`${app.url}/health/live`)).status).toBe(200);
    expect((await http(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text).toMatch(/cachelog_journal_events_total\{type="Set"\} [1-9]/);
    expect(uncaught).toStrictEqual([]);
    healthy.close();
  });

  it('a subscriber that throws on every commit (contained, or not: the backstop) never ends the process; the others still see every commit', async () => {
    const journal = app.app.get(Journal);
    let contained = 0;
    let calls = 0;
    const throwing = subscribeContained(journal.liveCommits$, {
      name: 'test subscriber',
      next: () => {
        calls += 1;
        throw new Error('cannot handle this');
      },
      ended: () => (contained += 1),
    });
    const skipping = subscribeContained(journal.liveCommits$, {
      name: 'test counter',
      onFailure: 'skip',
      next: () => {
        calls += 1;
        throw new Error('cannot count this');
      },
    });
    // A subscriber written without the helper: rxjs would rethrow its error on a timer.
    const bare = journal.liveCommits$.subscribe(() => {
      throw new Error('uncontained');
    });
    try {
      for (const value of ['3', '4']) expect((await http(`${app.url}/healthy/k`, { method: 'POST', token, body: Buffer.from(value) })).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(contained).toBe(1); // ended after its first failure
      expect(calls).toBe(1 + 2); // the ended one once, the skipping one on both commits
      expect((await http(`${app.url}/healthy/k`, { token })).text).toBe('4');
      expect(uncaught).toStrictEqual([]);
    } finally {
      throwing.unsubscribe();
      skipping.unsubscribe();
      bare.unsubscribe();
    }
  });
});
