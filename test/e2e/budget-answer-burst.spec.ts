import { Socket, connect } from 'node:net';
import { AnswerBudget } from '../../src/core/answer-budget';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const MiB = 1024 * 1024;
/** One stored value (ASCII: its JSON text is its own size); a batch get of COPIES of it is ~COPIES × 4/3 × VALUE bytes. */
const VALUE = Buffer.alloc(2 * MiB, 'a');
const COPIES = 6;
const ORG_BYTES = 40 * MiB;
const BURST = 10;
const UPSTASH_BURST = 30;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Answers built and then refused: when many connections of one org sent their first request for
 * a large answer at the same moment, every answer was built (base64 and JSON) before the org
 * check at hand-over refused most of them. Now each answer's bytes are reserved against the org's
 * ANSWER_QUEUE_ORG_BYTES while they are measured, before anything is encoded: concurrent producers
 * see each other's reservations, at most the share's worth of answers is built, and the rest get
 * 429 ANSWER_QUEUE_FULL before their big allocation. The budget's counters say what was built
 * (`admitted`) and what was built only to be thrown away (`refusedAfterBuilt`).
 */
describe('a burst of first requests for large answers builds at most the org share of them', () => {
  let app: TestApp;
  const budget = () => app.app.get(AnswerBudget);
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // A drain timeout longer than the test: what is built stays held, so the share is never freed mid-burst.
    app = await startTestApp({ env: { JOURNAL_SYNC: 'none', ANSWER_QUEUE_ORG_BYTES: String(ORG_BYTES), ANSWER_DRAIN_TIMEOUT_SECONDS: '120' } });
    for (const org of ['burst', 'sibling', 'bystander']) {
      expect((await http(`${app.url}/big/k`, { method: 'POST', token: tokenFor({ org }), body: VALUE })).status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await app.dispose();
  });

  /** `count` connected sockets that will not read (paused). */
  async function open(count: number): Promise<Socket[]> {
    const { port } = new URL(app.url);
    const opened = await Promise.all(
      Array.from({ length: count }, async () => {
        const socket = connect({ host: '127.0.0.1', port: Number(port) });
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        socket.on('error', () => undefined);
        socket.pause();
        return socket;
      }),
    );
    sockets.push(...opened);
    return opened;
  }

  /** Each socket's status line and head (its first bytes only: a 200's body is never read in full). */
  async function heads(of: Socket[]): Promise<string[]> {
    return Promise.all(
      of.map(
        (socket) =>
          new Promise<string>((resolve) => {
            let text = '';
            const onData = (chunk: Buffer) => {
              text += chunk.toString('latin1');
              const end = text.indexOf('\r\n\r\n');
              if (end < 0) return;
              socket.off('data', onData);
              const head = text.slice(0, end);
              // A refusal is small: its body is in too.
              resolve(head.startsWith('HTTP/1.1 429') ? text : head);
              socket.destroy();
            };
            socket.on('data', onData);
            socket.resume();
          }),
      ),
    );
  }

  /** Waits until `n` more answers of the budget were decided (built or refused) since `before`. */
  async function decided(before: { admitted: number; refused: number }, n: number): Promise<void> {
    for (let i = 0; i < 600 && budget().admitted - before.admitted + (budget().refused - before.refused) < n; i++) await sleep(50);
  }

  const counters = () => ({ admitted: budget().admitted, refused: budget().refused, refusedAfterBuilt: budget().refusedAfterBuilt });

  it('native POST /batch/get: N connections at once, none reading; at most share / answer + 1 answers are built, the rest are 429 before building', async () => {
    const token = tokenFor({ org: 'burst' });
    const body = JSON.stringify({ getCachedBatch: Array.from({ length: COPIES }, () => ({ cacheName: 'big', key: 'k' })) });
    const request = `POST /batch/get HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const answerBytes = Math.ceil((VALUE.length * 4) / 3) * COPIES;
    const burst = await open(BURST);
    const before = counters();
    // Every first request in the same tick.
    for (const socket of burst) socket.write(request);
    await decided(before, BURST);

    const built = budget().admitted - before.admitted;
    const refused = budget().refused - before.refused;
    expect(built + refused).toBe(BURST);
    expect(built).toBeGreaterThanOrEqual(1);
    expect(built).toBeLessThanOrEqual(Math.floor(ORG_BYTES / answerBytes) + 1);
    // None was built only to be thrown away at hand-over.
    expect(budget().refusedAfterBuilt - before.refusedAfterBuilt).toBe(0);
    expect(budget().orgCommitted('burst')).toBeLessThanOrEqual(ORG_BYTES + answerBytes);

    // Another org is answered in full meanwhile.
    const theirs = await http(`${app.url}/batch/get`, { method: 'POST', token: tokenFor({ org: 'bystander' }), body: JSON.parse(body.replace(/"big"/g, '"big"')) });
    expect(theirs.status).toBe(200);
    expect(theirs.json().results).toHaveLength(COPIES);

    // What the sockets got: the built answers are 200s, the others 429 ANSWER_QUEUE_FULL with Retry-After.
    const answers = await heads(burst);
    const ok = answers.filter((head) => head.startsWith('HTTP/1.1 200'));
    const full = answers.filter((head) => head.startsWith('HTTP/1.1 429'));
    expect(ok).toHaveLength(built);
    expect(full).toHaveLength(BURST - built);
    for (const refusal of full) {
      expect(refusal).toMatch(/retry-after: 1/i);
      expect(refusal).toContain('"code":"ANSWER_QUEUE_FULL"');
    }
    // Closed: what they held is given back, and the org is answered again.
    for (let i = 0; i < 100 && budget().orgCommitted('burst') > 0; i++) await sleep(50);
    expect(budget().orgCommitted('burst')).toBe(0);
    const after = await http(`${app.url}/batch/get`, { method: 'POST', token, body: JSON.parse(body) });
    expect(after.status).toBe(200);
    expect(Buffer.from(after.json().results[COPIES - 1].value, 'base64').equals(VALUE)).toBe(true);
  }, 120_000);

  it('Upstash MGET (another family and route): the same burst builds at most the share of answers as JSON text; the rest are Upstash 429s', async () => {
    const token = tokenFor({ org: 'sibling' });
    const request = `GET /redis/db/big/mget/${Array.from({ length: COPIES }, () => 'k').join('/')} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n\r\n`;
    const answerBytes = VALUE.length * COPIES;
    const burst = await open(UPSTASH_BURST);
    const before = counters();
    for (const socket of burst) socket.write(request);
    await decided(before, UPSTASH_BURST);

    const built = budget().admitted - before.admitted;
    const refused = budget().refused - before.refused;
    expect(built + refused).toBe(UPSTASH_BURST);
    expect(built).toBeGreaterThanOrEqual(1);
    expect(built).toBeLessThanOrEqual(Math.floor(ORG_BYTES / answerBytes) + 1);
    expect(refused).toBeGreaterThan(0);
    expect(budget().refusedAfterBuilt - before.refusedAfterBuilt).toBe(0);

    const answers = await heads(burst);
    const ok = answers.filter((head) => head.startsWith('HTTP/1.1 200'));
    const full = answers.filter((head) => head.startsWith('HTTP/1.1 429'));
    expect(ok).toHaveLength(built);
    expect(full).toHaveLength(UPSTASH_BURST - built);
    for (const refusal of full) {
      expect(refusal).toMatch(/retry-after: 1/i);
      // Upstash's error shape: `{"error":"ERR ..."}`, naming the setting.
      expect(refusal).toContain('{"error":"ERR this org');
      expect(refusal).toContain('ANSWER_QUEUE_ORG_BYTES');
    }
    for (let i = 0; i < 100 && budget().orgCommitted('sibling') > 0; i++) await sleep(50);
    const after = await http(`${app.url}/redis/db/big/mget/k/k`, { token });
    expect(after.status).toBe(200);
    expect(after.json().result[1]).toHaveLength(VALUE.length);
  }, 120_000);

  it('an Upstash pipeline whose reads would take the org past its share answers 200: the writes stand, each refused read is its own error', async () => {
    const token = tokenFor({ org: 'sibling' });
    // Another connection of the org holds nearly the whole share unread.
    const [holder] = await open(1);
    for (let i = 0; i < 100 && budget().orgCommitted('sibling') > 0; i++) await sleep(50);
    holder.write(`GET /redis/db/big/mget/${Array.from({ length: 15 }, () => 'k').join('/')} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n\r\n`);
    for (let i = 0; i < 200 && budget().orgHeld('sibling') < 15 * VALUE.length; i++) await sleep(50);
    expect(budget().orgHeld('sibling')).toBeGreaterThanOrEqual(15 * VALUE.length);
    // 10 MiB of the share left: of 8 GETs of 2 MiB, at most 5 fit.
    const pipeline = await http(`${app.url}/redis/db/big/pipeline`, { method: 'POST', token, body: [['INCR', 'n'], ...Array.from({ length: 8 }, () => ['GET', 'k'])] });
    expect(pipeline.status).toBe(200);
    const results = pipeline.json() as Array<{ result?: unknown; error?: string }>;
    expect(results[0]).toEqual({ result: 1 });
    expect(results.filter((one) => one.error?.startsWith('ERR ANSWER_QUEUE_FULL')).length).toBeGreaterThanOrEqual(3);
    expect(results.filter((one) => typeof one.result === 'string' && one.result.length === VALUE.length).length).toBeGreaterThanOrEqual(1);
    holder.destroy();
    for (let i = 0; i < 100 && budget().orgCommitted('sibling') > 0; i++) await sleep(50);
    expect((await http(`${app.url}/redis/db/big/get/n`, { token })).json()).toEqual({ result: '1' });
  }, 120_000);
});
