import { CacheEvent } from '../../src/domain';
import { LevelDbBackend } from '../../src/journal/leveldb/leveldb-backend';
import { Storage } from '../../src/journal/leveldb/storage';
import { startService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { http, tokenFor } from '../support/test-app';

async function readEvents(dataDir: string, org: string, name: string): Promise<CacheEvent[]> {
  const backend = new LevelDbBackend(dataDir);
  await backend.open();
  try {
    const events: CacheEvent[] = [];
    for await (const { event } of backend.journal.replay({ org, name })) events.push(event);
    return events;
  } finally {
    await backend.close();
  }
}

async function countSnapshots(dataDir: string): Promise<number> {
  const storage = new Storage(dataDir);
  await storage.open();
  let n = 0;
  for await (const _ of storage.snapshots.keys()) n++;
  await storage.close();
  return n;
}

describe('restarts of the real service process', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());
  const token = tokenFor({ org: 'durable' });

  it('loses no acknowledged write when killed with SIGKILL', async () => {
    const service = await startService(dir.path);
    const acknowledged = new Map<string, string>();
    // A write may reach the disk and lose its reply with the process: a later, unacknowledged
    // write to the same key may legitimately supersede the acknowledged one.
    const attemptedAfterAck = new Map<string, string[]>();
    const writes: Array<Promise<void>> = [];
    let stop = false;
    for (let writer = 0; writer < 8; writer++) {
      writes.push(
        (async () => {
          for (let i = 0; !stop; i++) {
            const cache = `c${writer % 3}`;
            const key = `w${writer}-k${i % 25}`;
            const value = `writer ${writer} write ${i}`;
            const path = `${cache}/${key}`;
            attemptedAfterAck.set(path, [...(attemptedAfterAck.get(path) ?? []), value]);
            try {
              const res = await http(`${service.url}/${path}`, { method: 'POST', token, body: Buffer.from(value) });
              if (res.status === 201) {
                acknowledged.set(path, value);
                attemptedAfterAck.set(path, []);
              }
            } catch {
              return; // the connection died with the process: this write was never acknowledged
            }
          }
        })(),
      );
    }
    // Kill once writes are being acknowledged (a fixed delay can end before the first 201 on a loaded machine).
    for (const until = Date.now() + 20_000; acknowledged.size < 50 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 200));
    service.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writes);
    expect(await service.exited).toBe('SIGKILL');
    expect(acknowledged.size).toBeGreaterThan(0);

    const restarted = await startService(dir.path);
    try {
      for (const [path, value] of acknowledged) {
        const res = await http(`${restarted.url}/${path}`, { token });
        expect(res.status).toBe(200);
        expect([value, ...(attemptedAfterAck.get(path) ?? [])]).toContain(res.text);
      }
      const keys = await http(`${restarted.url}/cacheName/c0/keys`, { token });
      for (const path of acknowledged.keys()) if (path.startsWith('c0/')) expect(keys.json().keys).toContain(path.slice(3));
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
    for (const name of ['c0', 'c1', 'c2']) {
      const events = await readEvents(dir.path, 'durable', name);
      expect(events[0].type).toBe('Created');
    }
  });

  it('never serves a value whose TTL ran out while the service was down, and journals its expiry after recovery', async () => {
    const service = await startService(dir.path);
    expect((await http(`${service.url}/ttl/short/1`, { method: 'POST', token, body: Buffer.from('soon gone') })).status).toBe(201);
    expect((await http(`${service.url}/ttl/long/3600`, { method: 'POST', token, body: Buffer.from('stays') })).status).toBe(201);
    service.child.kill('SIGKILL');
    await service.exited;
    await new Promise((resolve) => setTimeout(resolve, 1200));

    const restarted = await startService(dir.path);
    try {
      expect((await http(`${restarted.url}/ttl/short`, { token })).status).toBe(404);
      expect((await http(`${restarted.url}/ttl/long`, { token })).text).toBe('stays');
      expect((await http(`${restarted.url}/cacheName/ttl/keys`, { token })).json().keys).toEqual(['long']);
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    }
    const events = await readEvents(dir.path, 'durable', 'ttl');
    expect(events.map((e) => e.type)).toEqual(['Created', 'Set', 'Set', 'Expired']);
    expect(events[3]).toMatchObject({ type: 'Expired', key: 'short', by: 'system' });
  });

  it('on SIGTERM drains, writes snapshots and exits 0; the next start recovers from them', async () => {
    const service = await startService(dir.path);
    for (let i = 0; i < 20; i++) await http(`${service.url}/snap/k${i}`, { method: 'POST', token, body: Buffer.from(`v${i}`) });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(await countSnapshots(dir.path)).toBe(1);

    const restarted = await startService(dir.path);
    try {
      expect((await http(`${restarted.url}/snap/k19`, { token })).text).toBe('v19');
      expect((await http(`${restarted.url}/cacheName/snap/keys`, { token })).json().keys).toHaveLength(20);
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  });

  it('refuses to start on invalid configuration with a clear message', async () => {
    await expect(startService(dir.path, { SNAPSHOT_EVERY: 'often' })).rejects.toThrow(/SNAPSHOT_EVERY must be a whole number/);
  });
});
