import { Server } from 'node:http';
import { Socket, connect } from 'node:net';
import { AnswerBudget } from '../../src/core/answer-budget';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const MiB = 1024 * 1024;
/** One stored value; a batch get of COPIES of it is an answer of ~COPIES × 4/3 × VALUE bytes (base64 in JSON). */
const VALUE = Buffer.alloc(3 * MiB, 7);
const COPIES = 6;
const ORG_BYTES = 48 * MiB;
const HOARDERS = 12;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Memory of unread answers: clients that never read their answers kept them in the process's memory
 * (20 sockets asking for a 27 MiB answer took RSS from 107 MB to 1.47 GB). Every answer is
 * now charged to its connection and its org while its socket holds it: a connection produces
 * one answer at a time while it holds ANSWER_QUEUE_CONNECTION_BYTES unread, an org's
 * connections hold at most ANSWER_QUEUE_ORG_BYTES (beyond: 429 ANSWER_QUEUE_FULL), and a
 * connection that reads nothing for ANSWER_DRAIN_TIMEOUT_SECONDS while over a share is closed.
 * The Redis protocol's sibling is test/redis/unread-replies.spec.ts.
 */
describe('answers a client never reads are bounded per connection and per org (HTTP)', () => {
  let app: TestApp;
  const server = () => app.app.getHttpServer() as Server;
  const budget = () => app.app.get(AnswerBudget);
  const hoarder = tokenFor({ org: 'hoarder' });
  const bystander = tokenFor({ org: 'bystander' });
  const batch = (cacheName: string) => ({ getCachedBatch: Array.from({ length: COPIES }, () => ({ cacheName, key: 'k' })) });
  const serverSockets = new Set<Socket>();

  beforeAll(async () => {
    app = await startTestApp({
      env: { JOURNAL_SYNC: 'none', ANSWER_QUEUE_ORG_BYTES: String(ORG_BYTES), ANSWER_DRAIN_TIMEOUT_SECONDS: '2' },
    });
    server().on('connection', (socket: Socket) => {
      serverSockets.add(socket);
      socket.once('close', () => serverSockets.delete(socket));
    });
    expect((await http(`${app.url}/hoard/k`, { method: 'POST', token: hoarder, body: VALUE })).status).toBe(201);
    expect((await http(`${app.url}/mine/k`, { method: 'POST', token: bystander, body: VALUE })).status).toBe(201);
  }, 60_000);
  afterAll(() => app.dispose());

  /** Bytes the server's sockets hold for their clients (what a client that never reads keeps in memory). */
  const heldBySockets = () => [...serverSockets].reduce((sum, socket) => sum + socket.writableLength, 0);

  /** A socket that sends `count` pipelined batch gets and never reads a byte of the answers. */
  async function hoard(count: number): Promise<Socket> {
    const { port } = new URL(app.url);
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined);
    socket.pause();
    const body = JSON.stringify(batch('hoard'));
    const request = `POST /batch/get HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${hoarder}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    socket.write(request.repeat(count));
    return socket;
  }

  it('sockets asking for large answers and never reading hold at most the org share; another org and a reading client get full answers', async () => {
    const answerBytes = Math.ceil((VALUE.length * 4) / 3) * COPIES;
    const before = process.memoryUsage().arrayBuffers;
    const sockets = await Promise.all(Array.from({ length: HOARDERS }, () => hoard(2)));
    // While they hold their answers: sample what the server keeps for them.
    let peakHeld = 0;
    let peakCharged = 0;
    const sample = () => {
      peakHeld = Math.max(peakHeld, heldBySockets());
      peakCharged = Math.max(peakCharged, budget().total);
    };
    for (let i = 0; i < 20; i++) {
      sample();
      await sleep(100);
    }
    // Another org is answered in full meanwhile, and so is a client of the same org that reads (or it is told to retry).
    const theirs = await http(`${app.url}/batch/get`, { method: 'POST', token: bystander, body: batch('mine') });
    expect(theirs.status).toBe(200);
    expect(theirs.json().results).toHaveLength(COPIES);
    expect(Buffer.from(theirs.json().results[0].value, 'base64').equals(VALUE)).toBe(true);
    const same = await http(`${app.url}/batch/get`, { method: 'POST', token: hoarder, body: batch('hoard') });
    if (same.status === 429) {
      expect(same.json()).toEqual({ code: 'ANSWER_QUEUE_FULL', message: expect.stringContaining('ANSWER_QUEUE_ORG_BYTES') });
    } else {
      expect(same.status).toBe(200);
      expect(same.json().results).toHaveLength(COPIES);
    }
    sample();
    const grown = process.memoryUsage().arrayBuffers - before;

    // What the sockets hold stays within the org's share plus one answer in the making
    // (without the budget: every one of the 24 requests' answers, ~500 MiB).
    expect(peakHeld).toBeLessThanOrEqual(ORG_BYTES + answerBytes);
    expect(peakCharged).toBeLessThanOrEqual(ORG_BYTES + answerBytes);
    expect(grown).toBeLessThan(ORG_BYTES + 4 * answerBytes);

    // Clients that read none of their answers for ANSWER_DRAIN_TIMEOUT_SECONDS are closed, and what they held is freed.
    for (let i = 0; i < 100 && budget().total > 0; i++) await sleep(100);
    expect(budget().total).toBe(0);
    expect(budget().dropped).toBeGreaterThan(0);
    expect(heldBySockets()).toBeLessThan(answerBytes);
    for (const socket of sockets) socket.destroy();

    // Afterwards the org is answered in full again.
    const after = await http(`${app.url}/batch/get`, { method: 'POST', token: hoarder, body: batch('hoard') });
    expect(after.status).toBe(200);
    expect(Buffer.from(after.json().results[COPIES - 1].value, 'base64').equals(VALUE)).toBe(true);
  }, 120_000);

  it('a client that pipelines requests and reads its answers gets every one in full', async () => {
    const { port } = new URL(app.url);
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const body = JSON.stringify(batch('hoard'));
    const request = `POST /batch/get HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${hoarder}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // Reads as it comes, lightly: the answers' bytes are counted, and kept to be checked at the end.
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    socket.write(request.repeat(3));
    // Reads until three whole answers are in (framed by Content-Length or chunked).
    let answers: Array<{ head: string; body: Buffer }> = [];
    for (let i = 0; i < 600 && answers.length < 3; i++) {
      await sleep(100);
      answers = completeAnswers(Buffer.concat(chunks));
    }
    socket.destroy();
    expect(answers.map((answer) => /^HTTP\/1\.1 (\d{3})/.exec(answer.head)?.[1])).toEqual(['200', '200', '200']);
    for (const answer of answers) {
      const parsed = JSON.parse(answer.body.toString('utf8')) as { results: Array<{ value: string }> };
      expect(parsed.results).toHaveLength(COPIES);
      expect(Buffer.from(parsed.results[COPIES - 1].value, 'base64').equals(VALUE)).toBe(true);
    }
    expect(received).toBeGreaterThan(3 * COPIES * VALUE.length);
  }, 60_000);
});

/** The whole HTTP/1.1 answers at the start of `bytes`, each framed by Content-Length or chunked transfer coding. */
function completeAnswers(bytes: Buffer): Array<{ head: string; body: Buffer }> {
  const answers: Array<{ head: string; body: Buffer }> = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return answers;
    const head = bytes.subarray(at, headEnd).toString('latin1');
    let cursor = headEnd + 4;
    const length = /content-length: (\d+)/i.exec(head)?.[1];
    if (length !== undefined) {
      if (bytes.length < cursor + Number(length)) return answers;
      answers.push({ head, body: bytes.subarray(cursor, cursor + Number(length)) });
      at = cursor + Number(length);
      continue;
    }
    if (!/transfer-encoding: chunked/i.test(head)) throw new Error(`an answer with neither length nor chunks: ${head}`);
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = bytes.indexOf('\r\n', cursor);
      if (lineEnd === -1) return answers;
      const size = parseInt(bytes.subarray(cursor, lineEnd).toString('latin1'), 16);
      if (bytes.length < lineEnd + 2 + size + 2) return answers;
      parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      cursor = lineEnd + 2 + size + 2;
      if (size === 0) break;
    }
    answers.push({ head, body: Buffer.concat(parts) });
    at = cursor;
  }
}
