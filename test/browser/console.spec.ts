import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'artifacts');

describe('web console in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const token = tokenFor({ org: 'web', name: 'Ann' });
  const otherClient = tokenFor({ org: 'web', name: 'Bob' });
  const foreign = tokenFor({ org: 'elsewhere', name: 'Eve' });

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

  it('connects with a pasted token and lists only its org caches, with item count and version', async () => {
    await page.goto(`${app.url}/console`);
    await page.fill('[data-testid="token"]', token);
    await page.click('[data-testid="connect"]');
    const shop = page.locator('[data-testid="caches"] li[data-cache="shop"]');
    await shop.waitFor();
    await expect(shop.textContent()).resolves.toContain('2 items · v4');
    await expect(page.locator('[data-testid="caches"]').textContent()).resolves.not.toContain('secret-cache');
    // The token is kept for this tab only.
    expect(await page.evaluate("sessionStorage.getItem('cachelog.token')")).toBe(token);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });

  it('opens a cache: settings, keys, a text value and a binary value in hex', async () => {
    await page.click('[data-testid="caches"] li[data-cache="shop"] button');
    await page.locator('[data-testid="cache-title"]', { hasText: 'shop' }).waitFor();
    await page.locator('[data-testid="live-state"][data-state="on"]').waitFor();
    expect(await keysShown()).toEqual(['a', 'b']);
    await page.click('[data-testid="keys"] tr[data-key="a"] button.link');
    await page.locator('[data-testid="value"]', { hasText: 'two' }).waitFor();
    await page.click('[data-testid="keys"] tr[data-key="b"] button.link');
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

  it('shows the cache as it was at a past point of the timeline', async () => {
    await page.click('[data-testid="timeline"] li[data-seq="2"] button');
    await page.locator('[data-testid="past-banner"]', { hasText: 'v2' }).waitFor();
    await page.locator('[data-testid="keys"] tr[data-key="greeting"]').waitFor({ state: 'detached' });
    expect(await keysShown()).toEqual(['a']);
    await page.click('[data-testid="keys"] tr[data-key="a"] button.link');
    await page.locator('[data-testid="value"]', { hasText: 'one' }).waitFor();
    expect(await page.locator('[data-testid="set-form"]').isHidden()).toBe(true);
    await page.click('#back-to-now');
    await page.locator('[data-testid="keys"] tr[data-key="greeting"]').waitFor();
    expect(await keysShown()).toEqual(['a', 'b', 'greeting']);
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
});
