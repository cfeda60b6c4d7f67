import type { Msg, Subscription } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ClusterNode, ownSubject } from '../../src/cluster/cluster-node';
import { natsForFile } from '../support/nats-server';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

/**
 * Many commands forwarded at once: the non-owner sends those that arrive together in one
 * request to the owner. Each command is still answered on its own, applied once, and read back
 * at once through the node that forwarded it; an answer that node cannot read is indeterminate
 * (503), never run again. Two nodes in this process on one real nats-server.
 */
const token = tokenFor({ org: 'acme' });
const auth = { authorization: `Bearer ${token}` };
const nats = natsForFile();
const apps = nats.apps as TestApp[];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two nodes that see each other; answers [owner, forwarder] of a cache name starting with `prefix`. */
async function nodes(prefix: string, stream: string): Promise<{ owner: TestApp; forwarder: TestApp; cache: string }> {
  for (let i = 0; i < 2; i++) apps.push(await startTestApp({ env: { JOURNAL: 'nats', NATS_URL: nats.server.url, NATS_STREAM: stream, NATS_FORWARD_TIMEOUT_MS: '5000' } }));
  const clusters = apps.map((app) => app.app.get(ClusterNode));
  for (const until = Date.now() + 20_000; !clusters.every((c) => c.members.length === 2); await sleep(50)) if (Date.now() > until) throw new Error('the nodes do not see each other');
  const [a, b] = apps;
  const cache = `${prefix}0`;
  const owner = clusters[0].ownerOf({ org: 'acme', name: cache }) === clusters[0].self ? a : b;
  return { owner, forwarder: owner === a ? b : a, cache };
}

const forwardedCounts = (app: TestApp) => ({ ...app.app.get(ClusterNode).counts });

describe('forwarded commands in batches', () => {
  it('concurrent writes through a non-owner: each answered once with its own seq, applied once, and read back through that node at once', async () => {
    const { owner, forwarder, cache } = await nodes('batched', 'batches');
    const before = { owner: forwardedCounts(owner), forwarder: forwardedCounts(forwarder) };
    const KEYS = 120;
    const INCREMENTS = 60;

    // Writes of distinct keys and increments of one item, all at once: they leave in a few requests.
    const sets = Array.from({ length: KEYS }, async (_, i) => {
      const res = await fetch(`${forwarder.url}/${cache}/k${i}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: `value-${i}` });
      await res.arrayBuffer();
      // Read-your-writes on the forwarding node, without minSeq: its answer came only once the node had applied it.
      const read = await fetch(`${forwarder.url}/${cache}/k${i}`, { headers: auth });
      return { status: res.status, etag: res.headers.get('etag'), read: { status: read.status, body: await read.text() } };
    });
    const increments = Array.from({ length: INCREMENTS }, async () => {
      const res = await fetch(`${forwarder.url}/1/projects/acme/caches/${cache}/items/n/increment`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ amount: 1 }) });
      return { status: res.status, body: (await res.json()) as { value: number } };
    });
    const written = await Promise.all(sets);
    const incremented = await Promise.all(increments);

    expect(written.map((w) => w.status)).toEqual(Array(KEYS).fill(201));
    written.forEach((w, i) => expect(w.read).toEqual({ status: 200, body: `value-${i}` }));
    // Every write has a seq of its own (the cache's Created, then one per write, in some order).
    const seqs = written.map((w) => Number(/"v(\d+)"/.exec(w.etag ?? '')?.[1]));
    expect(new Set(seqs).size).toBe(KEYS);
    // Never twice: the increments answered 1..INCREMENTS, each once, and the item ends at INCREMENTS.
    expect(incremented.map((r) => r.status)).toEqual(Array(INCREMENTS).fill(200));
    expect(incremented.map((r) => r.body.value).sort((x, y) => x - y)).toEqual(Array.from({ length: INCREMENTS }, (_, i) => i + 1));
    for (const app of [forwarder, owner]) {
      // The owner wrote them; the forwarder applied each before answering it.
      const item = await fetch(`${app.url}/1/projects/acme/caches/${cache}/items/n`, { headers: auth }).then((r) => r.json());
      expect(item).toMatchObject({ value: String(INCREMENTS) });
    }

    // The forwarder's read models hold every key at once (its listing is answered from them, no minSeq), as do the owner's.
    for (const app of [forwarder, owner]) {
      const listed = (await fetch(`${app.url}/cacheName/${cache}/keys`, { headers: auth }).then((r) => r.json())) as { keys: string[] };
      expect(new Set(listed.keys)).toEqual(new Set([...Array.from({ length: KEYS }, (_, i) => `k${i}`), 'n']));
    }

    // The owner ran them all, for the forwarder; the forwarder ran none here.
    const after = { owner: forwardedCounts(owner), forwarder: forwardedCounts(forwarder) };
    expect(after.owner.served - before.owner.served).toBe(KEYS + INCREMENTS);
    expect(after.forwarder.answered - before.forwarder.answered).toBe(KEYS + INCREMENTS);
    expect(after.forwarder.served - before.forwarder.served).toBe(0);
  }, 60_000);

  it('an answer the forwarding node cannot read is 503 JOURNAL_UNAVAILABLE and the command is not run again there (it may have been carried out)', async () => {
    const { owner, forwarder, cache } = await nodes('garbled', 'garbled');
    // The owner's first write creates the cache, so the forwarder's copy would show any second run.
    expect((await fetch(`${owner.url}/${cache}/first`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: 'x' })).status).toBe(201);
    // Someone else answers for the owner, in a form no version writes.
    const ownerNode = owner.app.get(ClusterNode);
    (ownerNode as unknown as { serving: Subscription }).serving.unsubscribe();
    const nc = await connect({ servers: nats.server.url });
    try {
      nc.subscribe(ownSubject(ownerNode.options.stream, ownerNode.self), { callback: (error: Error | null, msg: Msg) => void (error === null && msg.respond(new Uint8Array([0xc1, 0xc1, 0xc1]))) });
      await nc.flush();
      const before = forwardedCounts(forwarder);
      const res = await fetch(`${forwarder.url}/${cache}/k`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: 'v' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
      expect(forwardedCounts(forwarder).indeterminate - before.indeterminate).toBe(1);
      // Not run here instead: the key is in neither node's state, and the cache holds its one write.
      await sleep(200);
      for (const app of [forwarder, owner]) expect((await fetch(`${app.url}/${cache}/k`, { headers: auth })).status).toBe(404);
      const listed = (await fetch(`${owner.url}/cacheName/${cache}/keys`, { headers: auth }).then((r) => r.json())) as { keys: string[] };
      expect(listed.keys).toEqual(['first']);
    } finally {
      await nc.close();
    }
  }, 60_000);
});
