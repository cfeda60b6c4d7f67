import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { CHROMIUM, DOCS, boxesOverlap, contrastFailures, requestsDuring, unlabelledControls } from './console-support';

const ARTIFACTS = join(__dirname, '..', 'artifacts');

describe('web console in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const token = tokenFor({ org: 'web', name: 'Ann' });
  const otherClient = tokenFor({ org: 'web', name: 'Bob' });
  const foreign = tokenFor({ org: 'elsewhere', name: 'Eve' });
  const forged = tokenFor({ org: 'web', name: 'Mallory' }, { secret: 'not-the-secret-of-this-service-at-all!!' });
  const longName = `a-cache-with-a-very-long-name-${'x'.repeat(200)}`;

  beforeAll(async () => {
    app = await startTestApp();
    // History to look back at: v1 Created, v2 a=one, v3 a=two, v4 b=binary; and another org's cache.
    expect((await http(`${app.url}/cacheName`, { method: 'POST', token, body: { cacheName: 'shop', description: 'the shop front' } })).status).toBe(201);
    expect((await http(`${app.url}/shop/a`, { method: 'POST', token, body: Buffer.from('one'), headers: { 'x-device-id': 'laptop-1' } })).status).toBe(201);
    expect((await http(`${app.url}/shop/a`, { method: 'POST', token, body: Buffer.from('two') })).status).toBe(201);
    expect((await http(`${app.url}/shop/b`, { method: 'POST', token, body: Buffer.from([0, 1, 2, 0xff]) })).status).toBe(201);
    expect((await http(`${app.url}/secret-cache/x`, { method: 'POST', token: foreign, body: Buffer.from('not yours') })).status).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  const keysShown = () => page.locator('[data-testid="keys"] tr[data-key]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  const cell = (key: string, col: string) => page.locator(`[data-testid="keys"] tr[data-key="${key}"] td[data-col="${col}"]`);
  /** A key's type column, once the page has filled it (it shows "—" until the values are looked at). */
  const typeOf = async (key: string) => {
    await cell(key, 'type').filter({ hasNotText: '—' }).waitFor();
    return cell(key, 'type').textContent();
  };
  const openKey = async (key: string) => page.click(`[data-testid="keys"] tr[data-key="${key}"] button.link`);
  const openCache = async (name: string) => {
    await page.click(`[data-testid="caches"] li[data-cache="${name}"] button`);
    await page.locator('[data-testid="cache-title"]', { hasText: name }).waitFor();
    await page.locator('[data-testid="live-state"][data-state="on"]').waitFor();
  };
  const write = async (cache: string, key: string, value: string | Buffer, ttl?: number) => {
    const body = { cacheName: cache, key, value: Buffer.from(value).toString('base64'), ...(ttl ? { ttlSeconds: ttl } : {}) };
    expect((await http(`${app.url}/set`, { method: 'POST', token, body })).status).toBe(201);
  };

  describe('the bugs', () => {
    it('a refused token leaves a notice that goes away once a valid token connects', async () => {
      await page.goto(`${app.url}/console`);
      await page.fill('[data-testid="token"]', forged);
      await page.click('[data-testid="connect"]');
      await page.locator('[data-testid="notice"]', { hasText: 'token was refused' }).waitFor();
      await page.fill('[data-testid="token"]', token);
      await page.click('[data-testid="connect"]');
      await page.locator('[data-testid="caches"] li[data-cache="shop"]').waitFor();
      await page.locator('[data-testid="notice"]').waitFor({ state: 'hidden' });
    });

    it('connects with a pasted token and lists only its org caches, with key count (from the cache info) and version', async () => {
      const shop = page.locator('[data-testid="caches"] li[data-cache="shop"]');
      await expect(shop.textContent()).resolves.toContain('2 items · v4');
      await expect(page.locator('[data-testid="caches"]').textContent()).resolves.not.toContain('secret-cache');
      // The token is kept for this tab only.
      expect(await page.evaluate("sessionStorage.getItem('cachelog.token')")).toBe(token);
      expect(await page.evaluate('localStorage.length')).toBe(0);
    });

    it('opens a cache: settings, keys, a text value and a binary value in hex', async () => {
      await openCache('shop');
      expect(await keysShown()).toEqual(['a', 'b']);
      await openKey('a');
      await page.locator('[data-testid="value"]', { hasText: 'two' }).waitFor();
      await openKey('b');
      await page.locator('[data-testid="value"]', { hasText: '00000000  00 01 02 ff' }).waitFor();
      expect(await page.locator('[data-testid="settings"]').textContent()).toContain('capacity');
    });

    it('writes a key through the console, which the API then serves', async () => {
      await page.fill('[data-testid="set-key"]', 'greeting');
      await page.fill('[data-testid="set-value"]', 'hello from the console');
      await page.click('[data-testid="set-submit"]');
      await page.locator('[data-testid="keys"] tr[data-key="greeting"]').waitFor();
      expect(await keysShown()).toEqual(['a', 'b', 'greeting']);
      const stored = await http(`${app.url}/shop/greeting`, { token });
      expect(stored.text).toBe('hello from the console');
      // The console's writes are recorded with their author and device.
      await page.locator('[data-testid="timeline"] li[data-seq="5"]', { hasText: 'Ann · web-console' }).waitFor();
    });

    it('shows the cache as it was at a past point, and "Back to now" brings the value pane back to now too', async () => {
      await openKey('a');
      await page.locator('[data-testid="value"]', { hasText: 'two' }).waitFor();
      await page.click('[data-testid="timeline"] li[data-seq="2"] button');
      await page.locator('[data-testid="past-banner"]', { hasText: 'v2' }).waitFor();
      await page.locator('[data-testid="keys"] tr[data-key="greeting"]').waitFor({ state: 'detached' });
      expect(await keysShown()).toEqual(['a']);
      // The selected key follows the point: its value then.
      await page.locator('[data-testid="value"]', { hasText: 'one' }).waitFor();
      await page.locator('[data-testid="value-meta"]', { hasText: 'as of v2' }).waitFor();
      expect(await page.locator('[data-testid="set-form"]').isHidden()).toBe(true);
      await page.click('#back-to-now');
      await page.locator('[data-testid="keys"] tr[data-key="greeting"]').waitFor();
      expect(await keysShown()).toEqual(['a', 'b', 'greeting']);
      await page.locator('[data-testid="value"]', { hasText: 'two' }).waitFor();
      expect(await page.locator('[data-testid="value-meta"]').textContent()).not.toContain('as of');
    });

    it('sees a write made by another client appear live', async () => {
      expect((await http(`${app.url}/shop/from-curl`, { method: 'POST', token: otherClient, body: Buffer.from('hi'), headers: { 'x-device-id': 'ci-runner' } })).status).toBe(201);
      await page.locator('[data-testid="live"] li', { hasText: 'from-curl' }).waitFor();
      await page.locator('[data-testid="keys"] tr[data-key="from-curl"]').waitFor();
      await page.locator('[data-testid="timeline"] li[data-seq="6"]', { hasText: 'Bob · ci-runner' }).waitFor();
      await page.locator('[data-testid="caches"] li[data-cache="shop"]', { hasText: '4 items · v6' }).waitFor();
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.click('[data-testid="keys"] tr[data-key="greeting"] button.link');
      await page.locator('[data-testid="value"]', { hasText: 'hello from the console' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
    });

    it('deletes a key through the console', async () => {
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('[data-testid="keys"] tr[data-key="from-curl"] button.danger');
      await page.locator('[data-testid="keys"] tr[data-key="from-curl"]').waitFor({ state: 'detached' });
      expect((await http(`${app.url}/shop/from-curl`, { token })).status).toBe(404);
    });

    it('sorts keys as numbers read: user:2 before user:10', async () => {
      for (const key of ['user:10', 'user:2', 'user:1', 'user:100', 'item-b', 'item-a']) await write('sorting', key, 'x');
      await page.click('#refresh-caches');
      await openCache('sorting');
      expect(await keysShown()).toEqual(['item-a', 'item-b', 'user:1', 'user:2', 'user:10', 'user:100']);
    });

    it('lays out SettingsChanged rows and long names without overlap', async () => {
      const longKey = `k-${'long-key-segment-'.repeat(12)}end`;
      await write(longName, longKey, 'v');
      expect((await http(`${app.url}/cacheName/${longName}/settings`, { method: 'PUT', token, body: { capacity: 1000, ttl: 3600 } })).status).toBe(200);
      await write(longName, 'after', 'v');
      await page.click('#refresh-caches');
      await openCache(longName);
      await page.locator('[data-testid="timeline"] li.type-SettingsChanged').waitFor();
      expect(await boxesOverlap(page, '[data-testid="timeline"] li button', ['.seq', '.type', '.what', '.who', 'time'])).toStrictEqual([]);
      expect(await boxesOverlap(page, '[data-testid="keys"] tr[data-key]', ['th', 'td[data-col="type"]', 'td[data-col="size"]', 'td[data-col="ttl"]', 'td.actions'])).toStrictEqual([]);
      // Nothing is wider than the page.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    });
  });

  describe('keys and values', () => {
    it('searches keys on the server by pattern, a page at a time', async () => {
      for (let i = 0; i < 130; i++) await write('many', `order:${i}`, `{"n":${i}}`);
      await write('many', 'other', 'x');
      await page.click('#refresh-caches');
      await openCache('many');
      await page.locator('[data-testid="key-count"]', { hasText: '131' }).waitFor();
      // A first page of 100, then "Load more".
      expect((await keysShown()).length).toBe(100);
      await page.click('[data-testid="more-keys"]');
      await page.locator('[data-testid="more-keys"]').waitFor({ state: 'hidden' });
      expect((await keysShown()).length).toBe(131);
      // Plain text is a prefix; a glob is a glob.
      await page.fill('[data-testid="key-search"]', 'order:12');
      await page.press('[data-testid="key-search"]', 'Enter');
      await page.locator('[data-testid="keys-status"]', { hasText: '11 matching keys' }).waitFor();
      expect(await keysShown()).toEqual(['order:12', ...Array.from({ length: 10 }, (_, i) => `order:${120 + i}`)]);
      await page.fill('[data-testid="key-search"]', '*th*');
      await page.click('[data-testid="key-search-go"]');
      await page.locator('[data-testid="keys-status"]', { hasText: '1 matching key' }).waitFor();
      expect(await keysShown()).toEqual(['other']);
      // Type and size columns for the page.
      await page.fill('[data-testid="key-search"]', 'order:7');
      await page.click('[data-testid="key-search-go"]');
      await page.locator('[data-testid="keys-status"]', { hasText: '11 matching keys' }).waitFor();
      await expect(typeOf('order:7')).resolves.toBe('json');
      await expect(cell('order:7', 'size').textContent()).resolves.toBe('7 B');
    });

    it('shows TTL, size and type columns, and edits a TTL and persists a key', async () => {
      await write('shop', 'session', 'token-123', 3600);
      await openCache('shop');
      await expect(cell('session', 'ttl').textContent()).resolves.toMatch(/^(59m \d+s|1h 0m)$/);
      await expect(cell('session', 'size').textContent()).resolves.toBe('9 B');
      await expect(typeOf('session')).resolves.toBe('text');
      await expect(typeOf('b')).resolves.toBe('binary');
      await expect(cell('a', 'ttl').textContent()).resolves.toBe('none');
      await openKey('session');
      await page.locator('[data-testid="value-meta"]', { hasText: 'TTL' }).waitFor();
      await page.fill('[data-testid="ttl-seconds"]', '120');
      await page.click('[data-testid="ttl-save"]');
      await page.locator('[data-testid="value-meta"]', { hasText: /TTL (2m 0s|1m 5\ds)/ }).waitFor();
      const expiring = await http(`${app.url}/get/shop/session`, { token });
      const left = Date.parse(expiring.json().expiresAt) - Date.now();
      expect(left).toBeGreaterThan(60_000);
      expect(left).toBeLessThanOrEqual(120_000);
      await page.click('[data-testid="ttl-persist"]');
      await page.locator('[data-testid="value-meta"]', { hasText: 'TTL none' }).waitFor();
      expect((await http(`${app.url}/get/shop/session`, { token })).json().expiresAt).toBeNull();
      await expect(cell('session', 'ttl').textContent()).resolves.toBe('none');
      expect((await http(`${app.url}/get/shop/session`, { token })).json().value).toBe(Buffer.from('token-123').toString('base64'));
    });

    it('follows writes made over the Upstash-style REST API (Redis commands) live: keys, TTLs, deletes', async () => {
      const redis = (command: unknown[]) => http(`${app.url}/redis/db/shop`, { method: 'POST', token: otherClient, body: command });
      expect((await redis(['SET', 'from-redis', 'hello', 'EX', 7200])).status).toBe(200);
      await page.locator('[data-testid="keys"] tr[data-key="from-redis"]').waitFor();
      await expect(cell('from-redis', 'ttl').textContent()).resolves.toMatch(/^(1h 59m|2h 0m)$/);
      await expect(cell('from-redis', 'size').textContent()).resolves.toBe('5 B');
      expect((await redis(['PERSIST', 'from-redis'])).status).toBe(200);
      await page.locator('[data-testid="live"] li.type-ExpiryChanged', { hasText: 'from-redis' }).waitFor();
      // The key table renders on the next frame after the live row.
      await page.locator('[data-testid="keys"] tr[data-key="from-redis"] td[data-col="ttl"]', { hasText: /^none$/ }).waitFor();
      expect((await redis(['DEL', 'from-redis'])).status).toBe(200);
      await page.locator('[data-testid="keys"] tr[data-key="from-redis"]').waitFor({ state: 'detached' });
    });

    it('pretty-prints JSON, shows any value in hex, and edits a value', async () => {
      await write('shop', 'doc', '{"name":"cachelog","tags":["a","b"],"n":1}');
      await page.locator('[data-testid="keys"] tr[data-key="doc"]').waitFor();
      await openKey('doc');
      await page.locator('[data-testid="view-json"][aria-pressed="true"]').waitFor();
      expect(await page.locator('[data-testid="value"]').textContent()).toBe('{\n  "name": "cachelog",\n  "tags": [\n    "a",\n    "b"\n  ],\n  "n": 1\n}');
      await page.click('[data-testid="view-hex"]');
      await page.locator('[data-testid="value"]', { hasText: '00000000  7b 22 6e 61 6d 65' }).waitFor();
      await page.click('[data-testid="view-text"]');
      await page.locator('[data-testid="value"]', { hasText: '{"name":"cachelog"' }).waitFor();
      await page.click('[data-testid="value-edit"]');
      await page.fill('[data-testid="edit-value"]', '{"name":"cachelog","n":2}');
      await page.click('[data-testid="edit-save"]');
      // The view picked (text) stays for the new value; JSON pretty-prints it.
      await page.locator('[data-testid="value"]', { hasText: '{"name":"cachelog","n":2}' }).waitFor();
      await page.click('[data-testid="view-json"]');
      await page.locator('[data-testid="value"]', { hasText: '"n": 2' }).waitFor();
      expect((await http(`${app.url}/shop/doc`, { token })).text).toBe('{"name":"cachelog","n":2}');
      await page.screenshot({ path: join(DOCS, 'console-value.png'), fullPage: false });
    });

    it('uploads a binary value and downloads it back byte for byte', async () => {
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
      await page.fill('[data-testid="set-key"]', 'blob');
      await page.setInputFiles('[data-testid="set-file"]', { name: 'blob.bin', mimeType: 'application/octet-stream', buffer: bytes });
      await page.locator('[data-testid="keys"] tr[data-key="blob"]').waitFor();
      expect((await http(`${app.url}/shop/blob`, { token })).body.equals(bytes)).toBe(true);
      await openKey('blob');
      await page.locator('[data-testid="view-hex"][aria-pressed="true"]').waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="value-download"]')]);
      expect(readFileSync((await download.path())!).equals(bytes)).toBe(true);
      // Upload over an existing key.
      const replacement = Buffer.from([9, 8, 7, 0]);
      await page.setInputFiles('[data-testid="value-upload"]', { name: 'r.bin', mimeType: 'application/octet-stream', buffer: replacement });
      await page.locator('[data-testid="value"]', { hasText: '00000000  09 08 07 00' }).waitFor();
      expect((await http(`${app.url}/shop/blob`, { token })).body.equals(replacement)).toBe(true);
    });

    it('shows the difference between two versions of a key', async () => {
      await write('shop', 'config', 'alpha\nbeta\ngamma');
      await write('shop', 'config', 'alpha\nBETA\ngamma\ndelta');
      await page.locator('[data-testid="timeline"] li', { hasText: 'config' }).nth(1).waitFor();
      await openKey('config');
      await page.locator('[data-testid="value"]', { hasText: 'delta' }).waitFor();
      // The form is filled with the key's previous version.
      expect(await page.inputValue('[data-testid="diff-a"]')).not.toBe('');
      await page.click('[data-testid="diff-go"]');
      const diff = page.locator('[data-testid="diff"]');
      await diff.locator('[data-op="-"]', { hasText: 'beta' }).waitFor();
      expect(await diff.locator('[data-op="+"]').allTextContents()).toEqual(['+ BETA\n', '+ delta\n']);
      expect(await diff.locator('[data-op="-"]').allTextContents()).toEqual(['- beta\n']);
      expect(await diff.locator('[data-op=" "]').allTextContents()).toEqual(['  alpha\n', '  gamma\n']);
    });
  });

  describe('cache settings, flush and delete', () => {
    it('edits the settings, which become a SettingsChanged event', async () => {
      await page.click('[data-testid="settings-edit"]');
      await page.fill('[data-testid="s-capacity"]', '500');
      await page.fill('[data-testid="s-ttl"]', '0');
      await page.click('[data-testid="s-save"]');
      await page.locator('[data-testid="settings"]', { hasText: 'capacity: 500' }).waitFor();
      expect((await http(`${app.url}/cacheName/shop/settings`, { token })).json()).toMatchObject({ capacity: 500, ttl: 0 });
      await page.locator('[data-testid="timeline"] li.type-SettingsChanged').first().waitFor();
    });

    it('flushes a cache after a confirmation (dismissing it keeps the keys)', async () => {
      await write('scratch', 'one', '1');
      await write('scratch', 'two', '2');
      await page.click('#refresh-caches');
      await openCache('scratch');
      page.once('dialog', (dialog) => void dialog.dismiss());
      await page.click('[data-testid="flush"]');
      expect((await http(`${app.url}/cacheName/scratch`, { token })).json().keyCount).toBe(2);
      page.once('dialog', (dialog) => {
        expect(dialog.message()).toContain('Flush');
        void dialog.accept();
      });
      await page.click('[data-testid="flush"]');
      await page.locator('[data-testid="timeline"] li.type-Flushed').waitFor();
      await page.locator('[data-testid="keys"] tr[data-key]').first().waitFor({ state: 'detached' });
      expect((await http(`${app.url}/cacheName/scratch`, { token })).json().keyCount).toBe(0);
    });

    it('deletes a cache only when its name is typed to confirm', async () => {
      page.once('dialog', (dialog) => void dialog.accept('not-the-name'));
      await page.click('[data-testid="delete-cache"]');
      await page.locator('[data-testid="notice"]', { hasText: 'did not match' }).waitFor();
      expect((await http(`${app.url}/cacheName/scratch`, { token })).json().deleted).toBe(false);
      page.once('dialog', (dialog) => void dialog.accept('scratch'));
      await page.click('[data-testid="delete-cache"]');
      await page.locator('[data-testid="caches"] li[data-cache="scratch"]').waitFor({ state: 'detached' });
      expect((await http(`${app.url}/cacheName/scratch`, { token })).json().deleted).toBe(true);
    });
  });

  describe('time travel, restore and tasks', () => {
    it('picks a date and time to see the cache as of then', async () => {
      // Two writes more than a second apart: the picker has second precision.
      await write('asof', 'k', 'old');
      const first = Date.parse((await http(`${app.url}/cacheName/asof/events?from=1&limit=10`, { token })).json().events.at(-1).time);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - first)) + 100));
      await write('asof', 'k', 'new');
      await write('asof', 'later', 'x');
      await page.click('#refresh-caches');
      await openCache('asof');
      await openKey('k');
      await page.locator('[data-testid="value"]', { hasText: 'new' }).waitFor();
      // The start of the second after the first write, in the browser's local time.
      const when = Math.floor(first / 1000) * 1000 + 1000;
      const local = new Date(when - new Date(when).getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
      await page.fill('[data-testid="as-of"]', local);
      await page.click('[data-testid="as-of-go"]');
      await page.locator('[data-testid="past-banner"]', { hasText: 'as of' }).waitFor();
      await page.locator('[data-testid="value"]', { hasText: 'old' }).waitFor();
      expect(await keysShown()).toEqual(['k']);
      await page.click('#back-to-now');
      await page.locator('[data-testid="past-banner"]').waitFor({ state: 'hidden' });
      await page.locator('[data-testid="value"]', { hasText: 'new' }).waitFor();
    });

    it('restores the cache to a past point as a task whose progress shows', async () => {
      await write('restore-me', 'keep', 'v1');
      await write('restore-me', 'later', 'added after');
      await write('restore-me', 'keep', 'v2');
      await page.click('#refresh-caches');
      await openCache('restore-me');
      await page.click('[data-testid="timeline"] li[data-seq="2"] button');
      await page.locator('[data-testid="past-banner"]', { hasText: 'v2' }).waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('[data-testid="restore-here"]');
      const progress = page.locator('[data-testid="restore-progress"]');
      await progress.waitFor();
      await page.locator('[data-testid="restore-progress"][data-state="SUCCESS"]').waitFor();
      expect(await progress.textContent()).toMatch(/Restored to v2: 2 event\(s\) appended, now v6/);
      expect(await page.locator('#restore-bar').evaluate((bar) => (bar as unknown as { value: number }).value)).toBe(3);
      // The view is back at now, which is the restored state.
      await page.locator('[data-testid="past-banner"]').waitFor({ state: 'hidden' });
      await page.locator('[data-testid="keys"] tr[data-key="later"]').waitFor({ state: 'detached' });
      expect(await keysShown()).toEqual(['keep']);
      expect((await http(`${app.url}/restore-me/keep`, { token })).text).toBe('v1');
      await page.screenshot({ path: join(DOCS, 'console-restore.png'), fullPage: false });
    });

    it('lists the keys of a past point a page at a time (never the whole list), with their sizes', async () => {
      const many = Array.from({ length: 250 }, (_, i) => ({ cacheName: 'past-pages', key: `p:${String(i).padStart(3, '0')}`, value: Buffer.from('x'.repeat(i % 7 + 1)).toString('base64') }));
      expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests: many } })).status).toBe(200);
      const point = (await http(`${app.url}/cacheName/past-pages/events?from=1&limit=1`, { token })).json().highestSeq;
      for (let i = 0; i < 20; i++) await write('past-pages', `later:${i}`, 'after the point');
      await page.click('#refresh-caches');
      await openCache('past-pages');
      const opening = await requestsDuring(page, async () => {
        await page.click(`[data-testid="timeline"] li[data-seq="${point}"] button`);
        await page.locator('[data-testid="past-banner"]', { hasText: `v${point}` }).waitFor();
        await page.locator('[data-testid="keys"] tr[data-key="later:0"]').waitFor({ state: 'detached' });
        await page.locator('[data-testid="more-keys"]').waitFor();
      });
      const keyRequests = opening.filter((r) => r.url.includes('/keys'));
      expect(keyRequests.length).toBeGreaterThan(0);
      for (const r of keyRequests) expect(r.url).toMatch(new RegExp(`^/cacheName/past-pages/keys\\?at=${point}&cursor=[^&]+&count=100&withSize=true$`));
      expect((await keysShown()).length).toBe(100);
      expect([await cell('p:006', 'size').textContent(), await cell('p:010', 'size').textContent()]).toEqual(['7 B', '4 B']); // from the page's valueBytes
      const more = await requestsDuring(page, async () => {
        await page.click('[data-testid="more-keys"]');
        await page.locator('[data-testid="keys"] tr[data-key="p:199"]').waitFor();
      });
      expect(more.filter((r) => r.url.includes('/keys')).every((r) => r.url.includes(`at=${point}&cursor=`) && !r.url.includes('cursor=0&'))).toBe(true);
      expect((await keysShown()).length).toBe(200);
      expect((await keysShown()).some((key) => key!.startsWith('later:'))).toBe(false);
      await page.click('#back-to-now');
      await page.locator('[data-testid="past-banner"]').waitFor({ state: 'hidden' });
    });

    it('runs tasks from the tasks view and follows their state live; an export downloads', async () => {
      await page.click('[data-testid="nav-tasks"]');
      // The restore started from the point-in-time view is listed.
      await page.locator('[data-testid="tasks"] tr[data-action="restore"][data-state="SUCCESS"]').waitFor();
      await page.selectOption('[data-testid="task-cache"]', 'shop');
      await page.selectOption('[data-testid="task-action"]', 'snapshot');
      await page.click('[data-testid="task-submit"]');
      await page.locator('[data-testid="tasks"] tr[data-action="snapshot"][data-state="SUCCESS"]').waitFor();
      await page.selectOption('[data-testid="task-action"]', 'compact');
      await page.click('[data-testid="task-submit"]');
      await page.locator('[data-testid="tasks"] tr[data-action="compact"][data-state="SUCCESS"]').waitFor();
      await page.selectOption('[data-testid="task-action"]', 'export');
      await page.click('[data-testid="task-submit"]');
      const exportRow = page.locator('[data-testid="tasks"] tr[data-action="export"][data-state="SUCCESS"]');
      await exportRow.waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), exportRow.locator('[data-testid="task-download"]').click()]);
      const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.some((line) => line.includes('"Set"'))).toBe(true);
      // A restore from the form.
      await page.selectOption('[data-testid="task-action"]', 'restore');
      await page.fill('[data-testid="task-at"]', '3');
      await page.click('[data-testid="task-submit"]');
      await page.locator('[data-testid="tasks"] tr[data-action="restore"][data-state="SUCCESS"]').nth(1).waitFor();
      expect((await http(`${app.url}/get/shop/doc`, { token })).json().success).toBe(false);
      // A backup of the org's caches (no cache to pick), downloaded from its row.
      await page.selectOption('[data-testid="task-action"]', 'backup');
      expect(await page.locator('[data-testid="task-cache"]').isHidden()).toBe(true);
      await page.click('[data-testid="task-submit"]');
      const backupRow = page.locator('[data-testid="tasks"] tr[data-action="backup"][data-state="SUCCESS"]');
      await backupRow.waitFor();
      const [backup] = await Promise.all([page.waitForEvent('download'), backupRow.locator('[data-testid="task-download"]').click()]);
      expect(backup.suggestedFilename()).toMatch(/^cachelog-.*\.backup$/);
      expect(readFileSync((await backup.path())!).length).toBeGreaterThan(100);
      await page.screenshot({ path: join(DOCS, 'console-tasks.png'), fullPage: false });
    });

    it('lists the tasks another client of the org started (not only this tab\'s), never another org\'s', async () => {
      const started = await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: otherClient, body: { resource_title: 'shop', action: 'snapshot' } });
      expect(started.status).toBe(200);
      const id = started.json().task_id;
      const foreignTask = (await http(`${app.url}/api/v1/cache/refresh/`, { method: 'POST', token: foreign, body: { resource_title: 'secret-cache', action: 'snapshot' } })).json().task_id;
      await page.click('[data-testid="nav-tasks"]');
      // Followed live from the list: another client's task shows, then its end.
      await page.locator(`[data-testid="tasks"] tr[data-task-id="${id}"][data-state="SUCCESS"]`).waitFor();
      expect(await page.locator(`[data-testid="tasks"] tr[data-task-id="${foreignTask}"]`).count()).toBe(0);
      // The list survives a reload of the tab: it is the service's, not the tab's.
      await page.evaluate("sessionStorage.removeItem('cachelog.tasks')");
      await page.reload();
      await page.locator('#who', { hasText: 'org web' }).waitFor();
      await page.click('[data-testid="nav-tasks"]');
      await page.locator(`[data-testid="tasks"] tr[data-task-id="${id}"]`).waitFor();
      expect(await page.locator('[data-testid="tasks"] tr[data-action="export"]').count()).toBeGreaterThan(0);
    });

    it("shows the org's live figures, its own only", async () => {
      for (let i = 0; i < 5; i++) await http(`${app.url}/get/shop/a`, { token });
      await http(`${app.url}/get/shop/missing`, { token });
      await page.click('[data-testid="nav-metrics"]');
      const before = (await http(`${app.url}/orgMetrics`, { token })).json();
      for (let i = 0; i < 50; i++) await http(`${app.url}/get/secret-cache/x`, { token: foreign });
      await page.locator('[data-testid="figure-hit-ratio"]').waitFor();
      await page.locator('[data-testid="figure-reads"]').waitFor();
      const report = (await http(`${app.url}/orgMetrics`, { token })).json();
      // The panel shows this org's totals (refreshed every 2 s); Eve's 50 reads are not in them.
      await page.locator('[data-testid="figure-reads"]', { hasText: `${report.totals.reads.toLocaleString('en-US')} in all` }).waitFor();
      expect(report.totals.reads).toBe(before.totals.reads);
      expect(report.org).toBe('web');
      await page.locator('[data-testid="figure-valueBytes"]').waitFor();
      await page.screenshot({ path: join(DOCS, 'console-metrics.png'), fullPage: false });
    });
  });

  describe('accessibility and small screens', () => {
    it('labels every control, and its text has enough contrast (WCAG AA)', async () => {
      await openCache('shop');
      await openKey('a');
      await page.locator('[data-testid="value"]', { hasText: 'two' }).waitFor();
      expect(await unlabelledControls(page)).toStrictEqual([]);
      expect(await contrastFailures(page)).toStrictEqual([]);
      await page.click('[data-testid="nav-tasks"]');
      expect(await unlabelledControls(page)).toStrictEqual([]);
      expect(await contrastFailures(page)).toStrictEqual([]);
    });

    it('works with the keyboard alone: open a cache, a key, and go back to now', async () => {
      await page.goto(`${app.url}/console`);
      await page.locator('[data-testid="caches"] li[data-cache="shop"]').waitFor();
      // Tab from the top of the page to the shop cache, Enter opens it.
      let found = false;
      for (let i = 0; i < 40 && !found; i++) {
        await page.keyboard.press('Tab');
        found = await page.evaluate("document.activeElement?.closest('li')?.getAttribute('data-cache') === 'shop'");
      }
      expect(found).toBe(true);
      expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="cache-title"]', { hasText: 'shop' }).waitFor();
      await page.locator('[data-testid="keys"] tr[data-key="a"]').waitFor();
      await page.focus('[data-testid="key-search"]');
      await page.keyboard.type('a');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="keys-status"]', { hasText: '1 matching key' }).waitFor();
      await page.keyboard.press('Tab'); // Search button
      await page.keyboard.press('Tab'); // the key
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('a');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="value-meta"]', { hasText: 'a ·' }).waitFor();
      // The settings form opens with Enter on its button, takes the focus, and Escape closes it.
      await page.focus('[data-testid="settings-edit"]');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid="settings-form"]').waitFor();
      expect(await page.evaluate('document.activeElement?.id')).toBe('s-capacity');
      await page.keyboard.press('Escape');
      await page.locator('[data-testid="settings-form"]').waitFor({ state: 'hidden' });
      expect(await page.evaluate('document.activeElement?.id')).toBe('settings-toggle');
    });

    it('fits a 420 px wide screen: nothing wider than the page, nothing overlapping', async () => {
      await page.setViewportSize({ width: 420, height: 900 });
      await page.click(`[data-testid="caches"] li[data-cache="${longName}"] button`);
      await page.locator('[data-testid="live-state"][data-state="on"]').waitFor();
      await page.locator('[data-testid="timeline"] li.type-SettingsChanged').waitFor();
      const fits = () => page.evaluate('document.documentElement.scrollWidth <= window.innerWidth');
      expect(await fits()).toBe(true);
      expect(await boxesOverlap(page, '[data-testid="timeline"] li button', ['.seq', '.type', '.what', '.who', 'time'])).toStrictEqual([]);
      expect(await boxesOverlap(page, '[data-testid="keys"] tr[data-key]', ['th', 'td[data-col="size"]', 'td[data-col="ttl"]', 'td.actions'])).toStrictEqual([]);
      await openCache('shop');
      await openKey('a');
      await page.locator('[data-testid="value-meta"]', { hasText: 'a ·' }).waitFor();
      expect(await fits()).toBe(true);
      await page.screenshot({ path: join(DOCS, 'console-narrow.png'), fullPage: true });
      await page.click('[data-testid="nav-tasks"]');
      expect(await fits()).toBe(true);
      await page.click('[data-testid="nav-metrics"]');
      await page.locator('[data-testid="figure-reads"]').waitFor();
      expect(await fits()).toBe(true);
      await page.setViewportSize({ width: 1360, height: 900 });
    });

    it('takes the screenshot of the main view for the docs', async () => {
      await write('shop', 'user:2', '{"name":"Bo","plan":"pro"}', 86_400);
      await write('shop', 'user:10', '{"name":"Al","plan":"free"}');
      await openCache('shop');
      await openKey('user:2');
      await page.locator('[data-testid="value"]', { hasText: '"plan": "pro"' }).waitFor();
      await page.screenshot({ path: join(DOCS, 'console.png'), fullPage: true });
    });
  });
});
