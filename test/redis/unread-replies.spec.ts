import { Socket, connect } from 'node:net';
import { AnswerBudget } from '../../src/core/answer-budget';
import { tokenFor } from '../support/test-app';
import { RedisTestApp, resp, startRedisApp } from './support';

const MiB = 1024 * 1024;
const VALUE = Buffer.alloc(3 * MiB, 5);
const ORG_BYTES = 16 * MiB;
const HOARDERS = 10;
/** GETs each hoarder pipelines: ~45 MiB of replies, under RESP_MAX_OUTPUT_BYTES (64 MiB), so the old hard limit never fired. */
const PIPELINED = 15;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Redis protocol's sibling of test/e2e/budget-unread-answers.spec.ts (memory of unread replies):
 * a client that pipelines GETs of a large value and never reads kept every reply in the
 * process (up to RESP_MAX_OUTPUT_BYTES each, and connections without end). Now a connection
 * runs no further command (and reads none) while it holds ANSWER_QUEUE_CONNECTION_BYTES of
 * unread replies or its org's connections hold ANSWER_QUEUE_ORG_BYTES, and one over a share
 * whose client reads nothing for ANSWER_DRAIN_TIMEOUT_SECONDS is closed.
 */
describe('replies a RESP client never reads are bounded per connection and per org', () => {
  let app: RedisTestApp;
  const budget = () => app.app.get(AnswerBudget);

  beforeAll(async () => {
    app = await startRedisApp({ JOURNAL_SYNC: 'none', ANSWER_QUEUE_ORG_BYTES: String(ORG_BYTES), ANSWER_DRAIN_TIMEOUT_SECONDS: '2' });
    const hoarder = await app.client('hoarder', { db: 'hoard' });
    await hoarder.set('big', VALUE);
    const bystander = await app.client('bystander', { db: 'mine' });
    await bystander.set('big', VALUE);
  }, 60_000);
  afterAll(() => app.dispose());

  /** AUTH, then PIPELINED GETs of the large value in one write; not a byte of the replies is read. */
  async function hoard(): Promise<Socket> {
    const socket = connect({ host: '127.0.0.1', port: app.respPort });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined);
    socket.pause();
    const commands = [resp('AUTH', 'hoard', tokenFor({ org: 'hoarder', name: 'hoarder' }))];
    for (let i = 0; i < PIPELINED; i++) commands.push(resp('GET', 'big'));
    socket.write(Buffer.concat(commands));
    return socket;
  }

  it('pipelined GETs never read hold at most the org share; another org and a reading client of the same org get full replies', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const sockets = await Promise.all(Array.from({ length: HOARDERS }, () => hoard()));
    let peakCharged = 0;
    let peakGrown = 0;
    const sample = () => {
      peakCharged = Math.max(peakCharged, budget().total);
      peakGrown = Math.max(peakGrown, process.memoryUsage().arrayBuffers - before);
    };
    for (let i = 0; i < 10; i++) {
      sample();
      await sleep(100);
    }
    // Another org is answered in full while they hold their replies.
    const bystander = await app.client('bystander', { db: 'mine' });
    expect((await bystander.getBuffer('big'))?.equals(VALUE)).toBe(true);
    sample();
    // A client of the same org that reads is answered too (once the hoarders are closed, if its org is over its share).
    const reader = await app.client('hoarder', { db: 'hoard' });
    expect((await reader.getBuffer('big'))?.equals(VALUE)).toBe(true);
    sample();

    // Without the budget: every reply of every hoarder, ~450 MiB.
    expect(peakCharged).toBeLessThanOrEqual(ORG_BYTES + 2 * VALUE.length);
    expect(peakGrown).toBeLessThan(ORG_BYTES + 64 * MiB);

    // The hoarders read nothing for ANSWER_DRAIN_TIMEOUT_SECONDS while over a share: closed, what they held freed.
    for (let i = 0; i < 100 && budget().total > 0; i++) await sleep(100);
    expect(budget().total).toBe(0);
    expect(budget().dropped).toBeGreaterThanOrEqual(HOARDERS);
    for (const socket of sockets) socket.destroy();
  }, 120_000);

  it('a client that pipelines many large GETs and reads them gets every reply in full', async () => {
    const dropped = budget().dropped;
    const reader = await app.client('hoarder', { db: 'hoard' });
    const pipeline = reader.pipeline();
    for (let i = 0; i < 40; i++) pipeline.getBuffer('big');
    const results = (await pipeline.exec()) ?? [];
    expect(results).toHaveLength(40);
    for (const [failure, value] of results) {
      expect(failure).toBeNull();
      expect((value as Buffer).equals(VALUE)).toBe(true);
    }
    expect(budget().dropped).toBe(dropped);
  }, 60_000);
});
