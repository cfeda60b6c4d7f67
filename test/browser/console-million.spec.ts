import { Browser, Page, chromium } from 'playwright-core';
import { join } from 'node:path';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';
import { CHROMIUM, DOCS, boxesOverlap, requestsDuring } from './console-support';

const KEYS = 1_000_000;
const BATCH = 10_000; // MAX_BATCH_ELEMENTS's default

/**
 * The console on a cache of a million keys: opening it and searching it ask a fixed number of
 * small requests (counted and weighed here, never timed). The app runs on the memory journal
 * so that a million writes through the public batch route take about a minute on 2 cores.
 */
describe('web console on a 1M-key cache', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const token = tokenFor({ org: 'big', name: 'Ann' });

  beforeAll(async () => {
    app = await startTestApp({ env: { JOURNAL: 'memory' } });
    const value = Buffer.from('{"v":1}').toString('base64');
    const body = (b: number) => {
      const cacheRequests = [];
      for (let i = b * BATCH; i < (b + 1) * BATCH; i++) cacheRequests.push({ cacheName: 'big', key: `user:${i}`, value });
      return JSON.stringify({ cacheRequests });
    };
    // Two batches in flight: the server decides one while the other is parsed.
    let next = 0;
    const worker = async () => {
      for (let b = next++; b < KEYS / BATCH; b = next++) {
        const answer = await http(`${app.url}/batch`, { method: 'POST', token, body: body(b), headers: { 'content-type': 'application/json' } });
        if (answer.status !== 200 || !answer.json().complete) throw new Error(`batch ${b}: ${answer.status} ${answer.text.slice(0, 200)}`);
      }
    };
    await Promise.all([worker(), worker()]);
    // A SettingsChanged event at a 7-digit version, for the layout check.
    expect((await http(`${app.url}/cacheName/big/settings`, { method: 'PUT', token, body: { ttl: 0, capacity: 2_000_000 } })).status).toBe(200);
    expect((await http(`${app.url}/cacheName/big`, { token })).json().keyCount).toBe(KEYS);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  const keysShown = () => page.locator('[data-testid="keys"] tr[data-key]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));

  it('lists the cache with its key count without listing its keys', async () => {
    await page.goto(`${app.url}/console`);
    await page.fill('[data-testid="token"]', token);
    const requests = await requestsDuring(page, async () => {
      await page.click('[data-testid="connect"]');
      await page.locator('[data-testid="caches"] li[data-cache="big"]', { hasText: '1,000,000 items' }).waitFor();
    });
    expect(requests.filter((r) => r.url.includes('/keys'))).toStrictEqual([]);
    for (const r of requests) expect(r.bytes).toBeLessThan(16 * 1024);
  });

  it('opens it with a fixed number of small requests: one page of keys, never the whole list', async () => {
    const requests = await requestsDuring(page, async () => {
      await page.click('[data-testid="caches"] li[data-cache="big"] button');
      await page.locator('[data-testid="live-state"][data-state="on"]').waitFor();
      await page.locator('[data-testid="key-count"]', { hasText: '1,000,000' }).waitFor();
      await page.locator('[data-testid="keys"] tr[data-key] td[data-col="size"]', { hasText: '7 B' }).first().waitFor();
    });
    const paths = requests.map((r) => r.url.split('?')[0]);
    // Info, settings, the newest event's seq, a page of events, a page of keys, the page's TTL/size/type, the live stream.
    expect(paths.sort()).toEqual(
      [
        '/cacheName/big',
        '/cacheName/big/settings',
        '/cacheName/big/events',
        '/cacheName/big/events',
        '/cacheName/big/keys',
        '/redis/db/big/pipeline',
        '/cacheName/big/events/stream',
      ].sort(),
    );
    const keyRequests = requests.filter((r) => r.url.startsWith('/cacheName/big/keys'));
    expect(keyRequests).toHaveLength(1);
    expect(keyRequests[0].url).toMatch(/[?&]cursor=0(&|$)/);
    expect(keyRequests[0].url).toMatch(/[?&]count=100(&|$)/);
    for (const r of requests) expect(r.bytes).toBeLessThan(64 * 1024);
    expect(requests.reduce((sum, r) => sum + r.bytes, 0)).toBeLessThan(128 * 1024);
    expect((await keysShown()).length).toBe(100);
    await page.locator('[data-testid="keys-status"]', { hasText: '100 shown of 1,000,000; more to load' }).waitFor();
  });

  it('searches a million keys on the server: a prefix and a glob, a few small requests each', async () => {
    const prefix = await requestsDuring(page, async () => {
      await page.fill('[data-testid="key-search"]', 'user:99999');
      await page.press('[data-testid="key-search"]', 'Enter');
      await page.locator('[data-testid="keys-status"]', { hasText: '11 matching keys' }).waitFor();
      await page.locator('[data-testid="keys"] tr[data-key="user:999999"] td[data-col="size"]', { hasText: '7 B' }).waitFor();
    });
    expect(await keysShown()).toEqual(['user:99999', ...Array.from({ length: 10 }, (_, i) => `user:99999${i}`)]);
    const prefixKeys = prefix.filter((r) => r.url.includes('/keys'));
    expect(prefixKeys.length).toBeGreaterThanOrEqual(1);
    expect(prefixKeys.length).toBeLessThanOrEqual(2);
    expect(prefixKeys[0].url).toContain(`match=${encodeURIComponent('user:99999*')}`);
    expect(prefix.length).toBeLessThanOrEqual(prefixKeys.length + 1);
    for (const r of prefix) expect(r.bytes).toBeLessThan(16 * 1024);

    const glob = await requestsDuring(page, async () => {
      await page.fill('[data-testid="key-search"]', 'user:12345?');
      await page.click('[data-testid="key-search-go"]');
      await page.locator('[data-testid="keys-status"]', { hasText: '10 matching keys' }).waitFor();
    });
    expect(await keysShown()).toEqual(Array.from({ length: 10 }, (_, i) => `user:12345${i}`));
    expect(glob.filter((r) => r.url.includes('/keys')).length).toBeLessThanOrEqual(2);
    for (const r of glob) expect(r.bytes).toBeLessThan(16 * 1024);
    await page.click('[data-testid="keys"] tr[data-key="user:123457"] button.link');
    await page.locator('[data-testid="value"]', { hasText: '"v": 1' }).waitFor();
    await page.screenshot({ path: join(DOCS, 'console-search.png'), fullPage: false });
  });

  it('"Load more" asks the next page only', async () => {
    await page.fill('[data-testid="key-search"]', '');
    await page.press('[data-testid="key-search"]', 'Enter');
    await page.locator('[data-testid="keys-status"]', { hasText: '100 shown of 1,000,000' }).waitFor();
    const more = await requestsDuring(page, async () => {
      await page.click('[data-testid="more-keys"]');
      await page.locator('[data-testid="keys-status"]', { hasText: '200 shown of 1,000,000' }).waitFor();
      await page.locator('[data-testid="keys"] tr[data-key] td[data-col="size"]', { hasText: '—' }).first().waitFor({ state: 'detached' });
    });
    const keyPages = more.filter((r) => r.url.includes('/keys'));
    expect(keyPages).toHaveLength(1);
    expect(keyPages[0].url).not.toMatch(/cursor=0(&|$)/);
    expect(more.length).toBe(2); // the page and its pipeline
  });

  it('follows a burst of 10,000 writes live without listing the keys again', async () => {
    const cacheRequests = Array.from({ length: BATCH }, (_, i) => ({ cacheName: 'big', key: `new:${i}`, value: Buffer.from('n').toString('base64') }));
    const during = await requestsDuring(page, async () => {
      expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests } })).status).toBe(200);
      await page.locator('[data-testid="key-count"]', { hasText: '1,010,000' }).waitFor();
      await page.locator('[data-testid="timeline"] li').first().filter({ hasText: 'new:9999' }).waitFor();
    });
    expect(during.filter((r) => r.url.includes('/keys'))).toStrictEqual([]);
    // The counts are asked again once per burst of events (and the stream may be opened again).
    for (const r of during) expect(r.url).toMatch(/^\/cacheName\/big(\/events\/stream\?from=\d+)?$/);
    expect(during.length).toBeLessThan(30);
    // The timeline keeps the newest 1000 events in the page.
    expect(await page.locator('[data-testid="timeline"] li').count()).toBeLessThanOrEqual(1000);
  });

  it('lays out 7-digit versions and SettingsChanged rows without overlap', async () => {
    expect((await http(`${app.url}/cacheName/big/settings`, { method: 'PUT', token, body: { capacity: 3_000_000 } })).status).toBe(200);
    const top = page.locator('[data-testid="timeline"] li').first();
    await page.locator('[data-testid="timeline"] li.type-SettingsChanged').first().waitFor();
    await expect(top.getAttribute('data-seq')).resolves.toMatch(/^\d{7}$/);
    await expect(top.textContent()).resolves.toContain('SettingsChanged');
    expect(await boxesOverlap(page, '[data-testid="timeline"] li button', ['.seq', '.type', '.what', '.who', 'time'])).toStrictEqual([]);
    await page.setViewportSize({ width: 420, height: 900 });
    expect(await boxesOverlap(page, '[data-testid="timeline"] li button', ['.seq', '.type', '.what', '.who', 'time'])).toStrictEqual([]);
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.setViewportSize({ width: 1360, height: 900 });
  });
});
