import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

const token = tokenFor({ org: 'ports' });
const put = (app: TestApp, cache: string, key: string, value: string) => http(`${app.url}/${cache}/${key}`, { method: 'POST', token, body: Buffer.from(value) });

describe('JOURNAL=memory', () => {
  it('serves the whole API over the in-memory journal and writes nothing under DATA_DIR', async () => {
    const dir = tempDir();
    const app = await startTestApp({ dataDir: join(dir.path, 'data'), env: { JOURNAL: 'memory' } });
    try {
      expect((await put(app, 'c', 'k1', 'one')).status).toBe(201);
      expect((await put(app, 'c', 'k2', 'two')).status).toBe(201);
      expect((await http(`${app.url}/c/k1`, { token })).text).toBe('one');
      expect((await http(`${app.url}/cacheName/c/keys`, { token })).json().keys).toEqual(['k1', 'k2']);
      expect((await http(`${app.url}/cacheName/list`, { token })).json()).toEqual([{ cacheName: 'c', description: '' }]);
      const events = (await http(`${app.url}/cacheName/c/events`, { token })).json().events;
      expect(events.map((e: { seq: number; offset: number }) => [e.seq, e.offset])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
    } finally {
      await app.close();
      const leftovers = existsSync(join(dir.path, 'data')) ? readdirSync(join(dir.path, 'data')) : [];
      dir.cleanup();
      expect(leftovers.filter((name) => name !== 'jwt-secret')).toStrictEqual([]);
    }
  });
});
