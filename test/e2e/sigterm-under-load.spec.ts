import { startService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { http, tokenFor } from '../support/test-app';

describe('SIGTERM under load (the real service process)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.cleanup());
  const token = tokenFor({ org: 'shutdown' });

  it('exits 0 while 12 writers are busy, and every acknowledged write is there after a restart', async () => {
    const service = await startService(dir.path);
    // Every write goes to its own key, so "present with this value" is exact.
    const acknowledged = new Map<string, string>();
    const refused: string[] = [];
    let closingRefusals = 0;
    let stop = false;
    let running = 12;
    const failures: string[] = [];
    const writers = Array.from({ length: 12 }, async (_, writer) => {
      for (let i = 0; !stop; i++) {
        const cache = `c${writer % 4}`;
        const key = `w${writer}-${i}`;
        const value = `writer ${writer} write ${i}`;
        try {
          // Half the writers use the raw binary route, half the JSON one.
          const response =
            writer % 2 === 0
              ? await http(`${service.url}/${cache}/${key}`, { method: 'POST', token, body: Buffer.from(value) })
              : await http(`${service.url}/set`, { method: 'POST', token, body: { cacheName: cache, key, value: Buffer.from(value).toString('base64') } });
          if (response.status === 201) acknowledged.set(`${cache}/${key}`, value);
          else if (response.status === 503) closingRefusals++; // arrived after the listener began closing: not acknowledged
          else refused.push(`${response.status} ${response.text}`);
        } catch (error) {
          // The listener has closed: nothing more is acknowledged.
          failures.push(String((error as Error).cause ?? error));
          break;
        }
      }
      running--;
    });
    // Wait until the load is real, then ask the process to stop in the middle of it.
    while (acknowledged.size < 300 && running === 12) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(failures).toStrictEqual([]); // no writer failed before the signal
    service.child.kill('SIGTERM');
    const exitCode = await Promise.race([service.exited, new Promise((resolve) => setTimeout(() => resolve(`still running after 30 s:\n${service.output()}`), 30_000))]);
    stop = true;
    await Promise.all(writers);

    expect(exitCode).toBe(0);
    expect(refused).toStrictEqual([]); // a clean stop answers what it accepted, or 503 while closing; never another error
    expect(closingRefusals).toBeLessThan(12 * 3);
    expect(service.output()).toContain('journal flushed, snapshots written, database closed');

    const restarted = await startService(dir.path);
    try {
      expect((await http(`${restarted.url}/health/ready`)).status).toBe(200);
      const missing: string[] = [];
      for (const [path, value] of acknowledged) {
        const response = await http(`${restarted.url}/${path}`, { token });
        if (response.status !== 200 || response.text !== value) missing.push(`${path}: ${response.status} ${response.text}`);
      }
      expect(missing).toStrictEqual([]);
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    }
  });
});
