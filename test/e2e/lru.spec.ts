import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * Capacity evicts the least recently *used* key, reads included, through
 * every family's read; and the order survives a clean restart (it is in the snapshot taken
 * at shutdown, even when only reads happened since the last write).
 */
describe('LRU by use: a read keeps a key from eviction', () => {
  const org = 'lru';
  const token = tokenFor({ org });
  let app: TestApp;

  const post = (path: string, body: unknown, method = 'POST') => http(`${app.url}${path}`, { method, token, body });
  /** Listing keys reads the key-listing projection: it does not count as use. */
  const keysOf = async (cacheName: string) => ((await http(`${app.url}/cacheName/${cacheName}/keys`, { token })).json().keys as string[]).sort();

  /** A cache of capacity 3 holding k1, k2, k3 written in that order. */
  async function fillThree(cacheName: string): Promise<void> {
    expect((await post('/cacheName', { cacheName })).status).toBe(201);
    expect((await post(`/cacheName/${encodeURIComponent(cacheName)}/settings`, { capacity: 3 }, 'PUT')).status).toBe(200);
    for (const key of ['k1', 'k2', 'k3']) expect((await post(`/${cacheName}/${key}`, Buffer.from(`v-${key}`))).status).toBe(201);
  }

  const readK1: Record<string, (cacheName: string) => Promise<void>> = {
    'native binary GET': async (c) => expect((await http(`${app.url}/${c}/k1`, { token })).text).toBe('v-k1'),
    'native JSON GET /get': async (c) => expect((await http(`${app.url}/get/${c}/k1`, { token })).json().success).toBe(true),
    'native POST /batch/get': async (c) =>
      expect((await post('/batch/get', { getCachedBatch: [{ cacheName: c, key: 'k1' }] })).json().results[0].success).toBe(true),
    'IronCache GET item': async (c) =>
      expect((await http(`${app.url}/1/projects/${org}/caches/${c}/items/k1`, { headers: { authorization: `OAuth ${token}` } })).json().value).toBe('v-k1'),
    'Momento GET': async (c) => expect((await http(`${app.url}/cache/${c}?key=k1`, { headers: { authorization: token } })).text).toBe('v-k1'),
  };

  describe('through each family', () => {
    beforeAll(async () => (app = await startTestApp()));
    afterAll(() => app.dispose());

    it.each(Object.keys(readK1))('set k1,k2,k3; read k1 (%s); set k4 → k2 is evicted, k1 kept', async (family) => {
      const cacheName = `c-${family.replace(/\W+/g, '-')}`;
      await fillThree(cacheName);
      await readK1[family](cacheName);
      expect((await post(`/${cacheName}/k4`, Buffer.from('v-k4'))).status).toBe(201);
      expect(await keysOf(cacheName)).toEqual(['k1', 'k3', 'k4']);
    });

    it('without the read, k1 (the least recently written) is the one evicted', async () => {
      await fillThree('unread');
      expect((await post('/unread/k4', Buffer.from('v-k4'))).status).toBe(201);
      expect(await keysOf('unread')).toEqual(['k2', 'k3', 'k4']);
    });

    it('a miss does not count: reading a missing key moves nothing', async () => {
      await fillThree('misses');
      expect((await http(`${app.url}/misses/nope`, { token })).status).toBe(404);
      expect((await post('/misses/k4', Buffer.from('v-k4'))).status).toBe(201);
      expect(await keysOf('misses')).toEqual(['k2', 'k3', 'k4']);
    });
  });

  it('the read order survives a clean restart, even with no write after the read', async () => {
    app = await startTestApp();
    const dataDir = app.dataDir;
    try {
      await fillThree('restarted');
      await app.close(); // clean shutdown: a snapshot of every cache with events since its last one
      app = await startTestApp({ dataDir });
      await readK1['native binary GET']('restarted'); // only a read since that snapshot: no new event
      await app.close();
      app = await startTestApp({ dataDir });
      expect((await post('/restarted/k4', Buffer.from('v-k4'))).status).toBe(201);
      expect(await keysOf('restarted')).toEqual(['k1', 'k3', 'k4']);
    } finally {
      await app.close();
      require('node:fs').rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
