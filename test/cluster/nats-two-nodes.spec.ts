import { rmSync } from 'node:fs';
import { INTERRUPTED_REASON } from '../../src/tasks/task-runner';
import { TaskStore } from '../../src/tasks/task.store';
import { natsForFile } from '../support/nats-server';
import { finished, submitTask } from '../support/tasks';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** Two cachelog nodes in this process on one real nats-server: contention, the read-wait setting, quotas, listings and tasks. */
const token = tokenFor({ org: 'acme' });
const auth = { authorization: `Bearer ${token}` };
const nats = natsForFile();
const apps = nats.apps as TestApp[];

async function nodes(stream: string, extra: Record<string, string>): Promise<[TestApp, TestApp]> {
  for (let i = 0; i < 2; i++) apps.push(await startTestApp({ env: { JOURNAL: 'nats', NATS_URL: nats.server.url, NATS_STREAM: stream, ...extra } }));
  return [apps[0], apps[1]];
}

const write = async (app: TestApp, key: string, value: string) => {
  const res = await fetch(`${app.url}/c/${key}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: value });
  const body = await res.text();
  return { status: res.status, code: res.status >= 400 ? (JSON.parse(body) as { code: string }).code : undefined, etag: res.headers.get('etag') };
};

describe('two nodes on one stream', () => {
  it('a write that loses the race to another node is decided again and lands: no 503 from contention', async () => {
    const [a, b] = await nodes('contention', {});
    await write(a, 'seed', '0');
    expect((await fetch(`${b.url}/c/seed`, { headers: auth })).status).toBe(200); // B holds the cache too
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => write(i % 2 ? a : b, `k${i}`, `${round}`)));
      expect(results.filter((r) => r.status !== 201)).toStrictEqual([]);
    }
  });

  it('NATS_READ_WAIT_MS=0: a minSeq read reads the tail from the stream at once instead of waiting for the follower', async () => {
    const [a, b] = await nodes('readwait', { NATS_READ_WAIT_MS: '0' });
    await write(a, 'k', 'one');
    expect(await (await fetch(`${b.url}/c/k`, { headers: auth })).text()).toBe('one'); // B holds the cache now
    for (let i = 0; i < 20; i++) {
      const { etag } = await write(a, 'k', `v${i}`);
      const seq = /"v(\d+)"/.exec(etag!)![1];
      const read = await fetch(`${b.url}/c/k?minSeq=${seq}`, { headers: auth });
      expect(await read.text()).toBe(`v${i}`);
    }
  });

  it('the org byte quota counts what other nodes wrote: once node B has applied A\'s write, B refuses what would pass the quota', async () => {
    const [a, b] = await nodes('quota', { ENABLE_ORG_SERVICE_LEVEL_SAAS: 'true', FREE_SERVICE_LEVEL_MAX_BYTES: '100' });
    const post = (app: TestApp, path: string, bytes: number) =>
      fetch(`${app.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: 'q'.repeat(bytes) }).then(async (res) => ({ status: res.status, body: await res.text(), etag: res.headers.get('etag') }));
    const first = await post(a, '/c/big', 60);
    expect(first.status).toBe(201);
    const seq = /"v(\d+)"/.exec(first.etag!)![1];
    // Read-your-writes on B also waits until B's read models (the org totals among them) have the write.
    expect((await fetch(`${b.url}/c/big?minSeq=${seq}`, { headers: auth })).status).toBe(200);
    const over = await post(b, '/other/k', 60);
    expect(over.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(over.body)).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect((await post(b, '/other/small', 10)).status).toBe(201);
  });

  it('lists keys and caches written through the other node', async () => {
    const [a, b] = await nodes('listing', {});
    const { etag } = await write(a, 'listed', 'x');
    const seq = /"v(\d+)"/.exec(etag!)![1];
    const keys = await fetch(`${b.url}/cacheName/c/keys?minSeq=${seq}`, { headers: auth }).then((r) => r.json());
    expect(keys).toMatchObject({ keys: ['listed'] });
  });

  it('task records are in the stream\'s bucket: any node answers a task id, and only the node that took a task resumes or fails it', async () => {
    const [a, b] = await nodes('tasks', {});
    await write(a, 'k', 'v');
    const id = await submitTask(a.url, token, { resource_title: 'c', action: 'snapshot' });
    expect(await finished(b.url, token, id)).toMatchObject({ task_id: id, task_state: 'SUCCESS', action: 'snapshot' });
    // The wall between orgs holds on every node.
    expect((await http(`${b.url}/api/v1/cache/state/?task_id=${id}`, { token: tokenFor({ org: 'other' }) })).status).toBe(404);

    // A task A had STARTED when it died: B's restart leaves it alone, A's restart on its data fails it.
    const store = a.app.get(TaskStore);
    const started = { ...(await store.get(id))!, id: 'interrupted-on-a', n: 99, state: 'STARTED' as const, finishedAt: undefined };
    await store.put(started);
    const state = async (app: TestApp) => (await http(`${app.url}/api/v1/cache/state/?task_id=interrupted-on-a`, { token })).json();
    const restart = async (app: TestApp) => {
      await app.close();
      const again = await startTestApp({ dataDir: app.dataDir, env: { JOURNAL: 'nats', NATS_URL: nats.server.url, NATS_STREAM: 'tasks' } });
      // Disposed with the others, its data directory too (startTestApp keeps a directory it was given).
      apps.splice(apps.indexOf(app), 1, { ...again, dispose: async () => (await again.dispose(), rmSync(app.dataDir, { recursive: true, force: true })) });
      return again;
    };
    const b2 = await restart(b);
    expect(await state(b2)).toMatchObject({ task_state: 'STARTED' });
    const a2 = await restart(a);
    expect(await state(b2)).toMatchObject({ task_state: 'FAILURE', reason: INTERRUPTED_REASON });
    expect(await state(a2)).toMatchObject({ task_state: 'FAILURE' });
  });
});
