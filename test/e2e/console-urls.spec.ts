import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context, createContext, runInContext } from 'node:vm';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/**
 * The console builds its URLs so that no cache or key name can move a request to another
 * route. Its delete of key K in a cache named `cacheName` was `DELETE /cacheName/K`: the
 * deletion of the org's whole cache K. console.js runs here as the browser would run it (in a
 * context with a stub DOM), its requests going to a real app.
 */
describe('the console URL builder', () => {
  let app: TestApp;
  let console_: Context;
  const token = tokenFor({ org: 'web', name: 'Ann' });
  const requests: Array<{ method: string; path: string }> = [];

  /** A DOM node that takes every property and call (the console only writes to its page). */
  const anyNode = (): unknown =>
    new Proxy(function () {} as unknown as Record<string, unknown>, {
      get: (target, name) => (name === Symbol.toPrimitive ? () => '' : typeof name === 'symbol' ? undefined : name in target ? target[name] : anyNode()),
      set: (target, name, value) => ((target[name as string] = value), true),
      apply: () => anyNode(),
    });

  beforeAll(async () => {
    app = await startTestApp();
    console_ = createContext({
      document: { addEventListener: () => undefined, getElementById: () => anyNode(), createElement: () => anyNode() },
      sessionStorage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
      confirm: () => true,
      fetch: (path: string, init: RequestInit = {}) => {
        requests.push({ method: init.method ?? 'GET', path });
        return fetch(`${app.url}${path}`, init);
      },
      setTimeout,
      clearTimeout,
      TextEncoder,
      TextDecoder,
      AbortController,
      atob,
      btoa,
      console,
    });
    runInContext(readFileSync(join(__dirname, '..', '..', 'console', 'console.js'), 'utf8'), console_);
    runInContext(`state.token = ${JSON.stringify(token)}`, console_);
  });
  afterAll(() => app.dispose());

  const inConsole = <T>(code: string): Promise<T> => runInContext(code, console_) as Promise<T>;
  const set = (cacheName: string, key: string) => http(`${app.url}/set`, { method: 'POST', token, body: { cacheName, key, value: 'dg==' } });

  it('deleting key K in a cache named "cacheName" deletes that key, not the org\'s cache K', async () => {
    expect((await set('K', 'x')).status).toBe(201);
    expect((await set('cacheName', 'K')).status).toBe(201);
    requests.length = 0;
    await inConsole(`state.cache = 'cacheName'; deleteKey('K')`);
    expect((await http(`${app.url}/get/cacheName/K`, { token })).json()).toMatchObject({ success: false });
    expect((await http(`${app.url}/cacheName/K`, { token })).json()).toMatchObject({ cacheName: 'K', deleted: false });
    expect((await http(`${app.url}/K/x`, { token })).status).toBe(200);
    expect(requests).toEqual([{ method: 'DELETE', path: '/batch' }]);
  });

  it('key listings of caches named like route segments (and with "/", "?", "#", "%" in them) reach those caches', async () => {
    for (const name of ['cacheName', 'get', 'batch', 'list', 'a/b', 'q?x=1#f', '%2e%2e']) {
      expect((await set(name, 'k/1')).status).toBe(201);
      requests.length = 0;
      await inConsole(`state.cache = ${JSON.stringify(name)}; state.at = null; state.match = ''; scanKeys(true)`);
      expect(JSON.parse(await inConsole<string>(`JSON.stringify([...state.keys.keys()])`))).toEqual(['k/1']);
      // One page of keys (the console pages with ?cursor=), then the page's sizes and types through the cache's Upstash-style pipeline.
      expect(requests.map((r) => r.path.split('?')[0])).toEqual([`/cacheName/${encodeURIComponent(name)}/keys`, `/redis/db/${encodeURIComponent(name)}/pipeline`]);
    }
  });

  it('path`` encodes each value as one segment and refuses dot segments (a browser would resolve them to another route)', async () => {
    expect(await inConsole('path`/get/${"a/b"}/${"?#%"}`')).toBe('/get/a%2Fb/%3F%23%25');
    for (const dots of ['.', '..']) {
      expect(() => runInContext(`path\`/cacheName/\${${JSON.stringify(dots)}}/keys\``, console_)).toThrow(/cannot be sent as a URL segment/);
      requests.length = 0;
      await inConsole(`state.cache = ${JSON.stringify(dots)}; scanKeys(true)`).catch(() => undefined);
      expect(requests).toStrictEqual([]);
    }
  });
});
