import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Page, Request } from 'playwright-core';

// Browser globals of the functions run in the page (page.evaluate); the project compiles without the DOM lib.
declare const document: any;
declare const window: any;
declare const getComputedStyle: (el: any) => any;
declare const NodeFilter: { SHOW_TEXT: number };

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the main views, referenced from docs/console.md. */
export const DOCS = join(__dirname, '..', '..', 'docs');
mkdirSync(DOCS, { recursive: true });

/**
 * For each row matching `rowSelector`, the pairs of its parts (`parts`, each a selector inside
 * the row) whose boxes intersect, and the parts that stick out of the row: `[]` when the layout
 * is clean. Hidden parts (no box) are skipped.
 */
export function boxesOverlap(page: Page, rowSelector: string, parts: string[]): Promise<string[]> {
  return page.evaluate(
    ({ rowSelector, parts }) => {
      const problems: string[] = [];
      for (const row of document.querySelectorAll(rowSelector)) {
        const outer = row.getBoundingClientRect();
        const boxes = parts
          .map((sel) => ({ sel, el: row.querySelector(sel) }))
          .filter((p: { sel: string; el: any }) => p.el !== null)
          .map((p: { sel: string; el: any }) => ({ sel: p.sel, r: p.el.getBoundingClientRect(), text: p.el.textContent ?? '' }))
          .filter((b: { r: any }) => b.r.width > 0 && b.r.height > 0);
        const label = (row.textContent ?? '').slice(0, 40);
        for (const b of boxes) {
          if (b.r.left < outer.left - 1 || b.r.right > outer.right + 1) problems.push(`${label}: ${b.sel} sticks out of its row`);
        }
        // A part's text wider than its box spills over its neighbour even when the boxes do not touch.
        for (const sel of parts) {
          const el = row.querySelector(sel);
          if (el && el.offsetWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).textOverflow !== 'ellipsis' && getComputedStyle(el).overflow === 'visible') {
            problems.push(`${label}: ${sel} text overflows its box`);
          }
        }
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i].r;
            const b = boxes[j].r;
            const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
            if (overlap) problems.push(`${label}: ${boxes[i].sel} overlaps ${boxes[j].sel}`);
          }
        }
      }
      return problems;
    },
    { rowSelector, parts },
  );
}

/** Visible form controls without an accessible name (label, aria-label, aria-labelledby or title). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0 && !el.classList.contains('sr-only')) continue;
      if (el.closest('[hidden]')) continue;
      const input = el;
      const named =
        (input.labels && input.labels.length > 0 && Array.from(input.labels as any[]).some((l: any) => (l.textContent ?? '').trim() !== '')) ||
        (el.getAttribute('aria-label') ?? '').trim() !== '' ||
        el.hasAttribute('aria-labelledby') ||
        (el.tagName === 'BUTTON' && (el.textContent ?? '').trim() !== '');
      if (!named) missing.push(el.outerHTML.slice(0, 100));
    }
    return missing;
  });
}

/**
 * Visible text whose contrast with the background behind it is under WCAG AA (4.5:1, 3:1 for
 * large text). The background is the nearest opaque one up the tree.
 */
export function contrastFailures(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el: any): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const failures: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<any>();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || seen.has(el) || (node.textContent ?? '').trim() === '') continue;
      seen.add(el);
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || el.closest('[hidden], .sr-only, .skip')) continue;
      if (el.disabled || el.closest('button:disabled')) continue;
      const fg = parse(style.color);
      const bg = background(el);
      const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failures.push(`${ratio.toFixed(2)}: "${(node.textContent ?? '').trim().slice(0, 30)}" (${style.color} on rgb(${bg.join(',')}))`);
    }
    return failures;
  });
}

/** The requests a page makes while `action` runs, and the bytes of each answer (streams: the headers only). */
export async function requestsDuring(page: Page, action: () => Promise<void>): Promise<Array<{ url: string; method: string; bytes: number }>> {
  const seen: Request[] = [];
  const listener = (request: Request) => seen.push(request);
  page.on('request', listener);
  try {
    await action();
  } finally {
    page.off('request', listener);
  }
  return Promise.all(
    seen.map(async (request) => {
      const url = new URL(request.url());
      const response = await request.response();
      let bytes = 0;
      if (response && !url.pathname.endsWith('/events/stream')) bytes = (await response.body()).length;
      return { url: url.pathname + url.search, method: request.method(), bytes };
    }),
  );
}
