import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { AutoCompactor } from '../../src/entities/auto-compactor';
import { InlineReadModels } from '../../src/journal/inline-read-models';
import { DISK_FLAG_KEY } from '../../src/journal/leveldb/leveldb-inline-read-models';
import { Storage } from '../../src/journal/leveldb/storage';
import { natsForFile } from '../support/nats-server';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The disk budget on JOURNAL=nats: each node counts journal bytes per cache, org and in all
 * as it applies the stream, a cache's history past HISTORY_COMPACT_FACTOR × its live size is
 * compacted by itself (one node at a time, a KV claim) and what it drops leaves every node's
 * figures, and an org past ORG_DISK_BUDGET_BYTES is refused as on LevelDB while others write.
 */
const KiB = 1024;
const nats = natsForFile({ lastFirst: true });
const apps = nats.apps as TestApp[];

const start = async (stream: string, env: Record<string, string>, dataDir?: string) => {
  const app = await startTestApp({ env: { JOURNAL: 'nats', NATS_URL: nats.server.url, NATS_STREAM: stream, ...env }, dataDir });
  apps.push(app);
  return app;
};
const rows = (app: TestApp) => app.app.get(InlineReadModels);
/** Polls until `condition` holds (at most ~60 s; the assertion after it says what was wrong). */
const until = async (condition: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 3000 && !(await condition()); i++) await sleep(20);
};

async function streamState(stream: string) {
  const nc = await connect({ servers: nats.server.url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state;
  } finally {
    await nc.close();
  }
}

describe('disk budget on NATS', () => {
  it('an org overwriting one key past the factor is compacted by itself: the stream and every node\'s figures shrink', async () => {
    const env = { HISTORY_COMPACT_FACTOR: '4', HISTORY_COMPACT_MIN_BYTES: String(256 * KiB) };
    const a = await start('autocompact', env);
    const b = await start('autocompact', env);
    const token = tokenFor({ org: 'overwriter' });
    const value = Buffer.alloc(200 * KiB, 1);
    for (let i = 0; i < 30; i++) {
      value[0] = i;
      expect((await http(`${a.url}/big/k`, { method: 'POST', token, body: value })).status).toBe(201);
    }
    const compactions = () => a.app.get(AutoCompactor).done + b.app.get(AutoCompactor).done;
    await until(() => compactions() > 0);
    expect(compactions()).toBeGreaterThan(0);
    // Retained: at most 4 × the live value + 256 KiB, and the value written while a compaction ran.
    const bound = 4 * (200 * KiB + 400) + 256 * KiB + 200 * KiB;
    for (const node of [a, b]) {
      await until(async () => ((await rows(node).journalBytes('overwriter')) ?? Infinity) <= bound);
      expect(await rows(node).journalBytes('overwriter')).toBeLessThanOrEqual(bound);
      expect(await rows(node).journalBytes('overwriter')).toBeGreaterThanOrEqual(200 * KiB);
      expect(rows(node).cacheJournalBytesNow({ org: 'overwriter', name: 'big' })).toBe(await rows(node).journalBytes('overwriter'));
    }
    // The same figure on both nodes (each counted the stream and subtracted the same drops).
    expect(await rows(b).journalBytes('overwriter')).toBe(await rows(a).journalBytes('overwriter'));
    // The stream itself lost the dropped messages: 30 writes, far fewer messages and bytes left.
    const state = await streamState('autocompact');
    expect(state.messages).toBeLessThan(10);
    expect(state.bytes).toBeLessThan(bound);
    expect((await http(`${b.url}/big/k`, { token })).body[0]).toBe(29);
  }, 120_000);

  it('a spent DISK_BUDGET_BYTES refuses every org on every node, and each node\'s /health/ready says so', async () => {
    const env = { DISK_BUDGET_BYTES: String(300 * KiB), HISTORY_COMPACT_FACTOR: '0' };
    const a = await start('servicebudget', env);
    const b = await start('servicebudget', env);
    const value = Buffer.alloc(200 * KiB, 3);
    let etag = '';
    for (let i = 0; i < 2; i++) etag = (await http(`${a.url}/c/k${i}`, { method: 'POST', token: tokenFor({ org: 'first' }), body: value })).headers.get('etag')!;
    const seq = /"v(\d+)"/.exec(etag)![1];
    expect((await http(`${b.url}/c/k1?minSeq=${seq}`, { token: tokenFor({ org: 'first' }) })).status).toBe(200);
    for (const node of [a, b]) {
      const refused = await http(`${node.url}/c/k`, { method: 'POST', token: tokenFor({ org: 'second' }), body: Buffer.from('small') });
      expect([refused.status, refused.json().code]).toEqual([400, 'DISK_BUDGET_EXCEEDED']);
      expect(refused.json().message).toContain('DISK_BUDGET_BYTES');
      const ready = await http(`${node.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(ready.json().info.disk).toMatchObject({ status: 'up', spent: 'DISK_BUDGET_BYTES' });
    }
  });

  it('one node at a time holds a cache\'s compaction claim', async () => {
    const a = await start('claims', {});
    const b = await start('claims', {});
    const ref = { org: 'acme', name: 'c' };
    const release = await rows(a).claimCompaction(ref);
    expect(release).toBeDefined();
    expect(await rows(b).claimCompaction(ref)).toBeUndefined();
    expect(await rows(a).claimCompaction(ref)).toBeUndefined();
    await release!();
    const second = await rows(b).claimCompaction(ref);
    expect(second).toBeDefined();
    await second!();
  });

  it('refuses an org past ORG_DISK_BUDGET_BYTES on every node while another org writes on; a node whose rows were lost counts them again from the stream', async () => {
    const env = { ORG_DISK_BUDGET_BYTES: String(600 * KiB), HISTORY_COMPACT_FACTOR: '0' };
    const a = await start('orgshare', env);
    const b = await start('orgshare', env);
    const filler = tokenFor({ org: 'filler' });
    const other = tokenFor({ org: 'other' });
    const value = Buffer.alloc(200 * KiB, 2);
    let refused;
    let etag: string | undefined;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const answer = await http(`${a.url}/c/k${i % 2}`, { method: 'POST', token: filler, body: value });
      if (answer.status === 201) etag = answer.headers.get('etag')!;
      else refused = answer;
    }
    expect(refused?.status).toBe(400);
    expect(refused?.json().code).toBe('DISK_BUDGET_EXCEEDED');
    expect(refused?.json().message).toContain('ORG_DISK_BUDGET_BYTES');
    expect((await http(`${a.url}/theirs/k`, { method: 'POST', token: other, body: value })).status).toBe(201);
    // Node B, once it has applied A's writes (a minSeq read waits for its rows too), refuses the same org.
    const seq = /"v(\d+)"/.exec(etag!)![1];
    expect((await http(`${b.url}/c/k0?minSeq=${seq}`, { token: filler })).status).toBe(200);
    let refusedOnB;
    for (let i = 0; i < 3 && refusedOnB === undefined; i++) {
      const answer = await http(`${b.url}/c/k${i % 2}`, { method: 'POST', token: filler, body: value });
      if (answer.status !== 201) refusedOnB = answer;
    }
    expect(refusedOnB?.status).toBe(400);
    expect(refusedOnB?.json().code).toBe('DISK_BUDGET_EXCEEDED');
    expect((await http(`${b.url}/theirs/k2`, { method: 'POST', token: other, body: value })).status).toBe(201);
    // Deletions are taken.
    expect((await http(`${b.url}/c/k0`, { method: 'DELETE', token: filler })).status).toBeLessThan(300);

    // Node B's journal-bytes rows and their flag are lost (as in a data directory from before them): it counts them again at start.
    const last = (await http(`${b.url}/theirs/k3`, { method: 'POST', token: other, body: Buffer.from('x') })).headers.get('etag')!;
    const lastSeq = /"v(\d+)"/.exec(last)![1];
    expect((await http(`${a.url}/theirs/k3?minSeq=${lastSeq}`, { token: other })).status).toBe(200);
    const figures = async (node: TestApp) => ({
      filler: await rows(node).journalBytes('filler'),
      other: await rows(node).journalBytes('other'),
      total: rows(node).totalJournalBytesNow(),
    });
    const before = await figures(a);
    expect(await figures(b)).toEqual(before);
    await b.close();
    const storage = new Storage(b.dataDir);
    await storage.open();
    await storage.journalBytes.clear();
    await storage.meta.del(DISK_FLAG_KEY);
    await storage.close();
    const again = await start('orgshare', env, b.dataDir);
    expect(await figures(again)).toEqual(before);
    expect((await http(`${again.url}/c/k9`, { method: 'POST', token: filler, body: value })).json().code).toBe('DISK_BUDGET_EXCEEDED');
  }, 120_000);
});
