import Redis from 'ioredis';
import { ServiceProcess, startService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { tokenFor } from '../support/test-app';

/** The RESP port the service logged ("Redis protocol on redis://host:port"). */
async function respPortOf(service: ServiceProcess): Promise<number> {
  const deadline = Date.now() + 20000;
  for (;;) {
    const match = /Redis protocol on redis:\/\/[\d.]+:(\d+)/.exec(service.output());
    if (match) return Number(match[1]);
    if (Date.now() > deadline) throw new Error(`no RESP port in the output:\n${service.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const client = (port: number) =>
  new Redis({ port, host: '127.0.0.1', password: tokenFor({ org: 'crash' }), maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });

describe('Redis protocol: kill -9 under pipelined writes from several clients', () => {
  const dir = tempDir('cachelog-resp-crash-');
  afterAll(() => dir.cleanup());

  it('loses no acknowledged write', async () => {
    const first = await startService(dir.path, { RESP_PORT: '0', LOG_FORMAT: 'json' });
    const port = await respPortOf(first);
    const acked = new Map<string, string>();
    let stop = false;
    const writer = async (id: number) => {
      const r = client(port);
      r.on('error', () => undefined);
      await r.connect();
      for (let round = 0; !stop; round++) {
        const pipeline = r.pipeline();
        const batch: Array<[string, string]> = [];
        for (let i = 0; i < 20; i++) batch.push([`w${id}:${(round * 20 + i) % 500}`, `${round}-${i}`]);
        for (const [k, v] of batch) pipeline.set(k, v);
        const results = await pipeline.exec().catch(() => null);
        if (results === null) return;
        results.forEach(([error], i) => {
          if (error === null) acked.set(batch[i][0], batch[i][1]);
        });
      }
    };
    const writers = [0, 1, 2].map(writer);
    // Killed in the middle of the writes, once enough are acknowledged to mean something (on a
    // loaded machine a fixed 1.5 s could end before 50 were).
    const started = Date.now();
    while ((acked.size <= 200 || Date.now() - started < 1000) && Date.now() - started < 30_000) await new Promise((resolve) => setTimeout(resolve, 50));
    first.child.kill('SIGKILL');
    stop = true;
    await first.exited;
    await Promise.allSettled(writers);
    expect(acked.size).toBeGreaterThan(50);

    const second = await startService(dir.path, { RESP_PORT: '0', LOG_FORMAT: 'json' });
    try {
      const r = client(await respPortOf(second));
      await r.connect();
      const keys = [...acked.keys()];
      const values = await r.mget(...keys);
      // A key's last acknowledged value, or a later write that was durable but whose reply the kill cut off.
      const round = (value: string) => Number(value.split('-')[0]);
      const lost = keys.filter((k, i) => values[i] === null || round(values[i]!) < round(acked.get(k)!));
      expect(lost).toStrictEqual([]);
      r.disconnect();
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });
});
