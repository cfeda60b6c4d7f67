import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { NAMESPACES } from '../../src/config/config';

/**
 * The README is for a newcomer (what cachelog is, when to pick it, the two commands, a token,
 * one example per API, headline figures, links) and short; the rest lives in docs/, each page
 * standing on its own, every link resolving, and the configuration page listing every setting
 * the code reads.
 */
const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);

describe('README and docs', () => {
  const readme = read('README.md');

  it('the README is at most ~1,500 words and covers what a newcomer needs', () => {
    expect(readme.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(1500);
    for (const heading of ['## When to pick it', '## Two commands', '## Getting a token', '## One example per API', '## Redis protocol', '## Headline figures', '## License']) {
      expect(readme).toContain(heading);
    }
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('TOKEN=$(npm run --silent token -- --org dev --name dev)');
    expect(readme).toMatch(/appendfsync always/);
    expect(readme).toMatch(/Momento/);
    expect(readme).toContain('(docs/benchmarks.md)');
    expect(readme).toMatch(/## Redis protocol\n\n[^\n]*\(docs\/redis\.md\)/);
  });

  it('every relative link of the README and docs/ resolves', () => {
    const broken: string[] = [];
    for (const file of ['README.md', ...DOCS]) {
      for (const [, target] of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        const path = normalize(join(dirname(file), target.split('#')[0]));
        if (!existsSync(join(ROOT, path))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toStrictEqual([]);
  });

  it('every docs/ page stands on its own: a title, and no pointer into the README', () => {
    for (const file of DOCS) {
      const text = read(file);
      expect(`${file}: ${text.slice(0, 2)}`).toBe(`${file}: # `);
      expect(`${file}: ${/README/.test(text)}`).toBe(`${file}: false`);
    }
  });

  it('docs/configuration.md lists every setting the configuration code reads', () => {
    // Every setting is declared once, in its namespace (src/config/<namespace>.ts); one added before it has a namespace is read from config.ts's `unplaced` schema.
    const declared = NAMESPACES.flatMap((ns) => ns.settings.map(({ setting }) => setting.env));
    const config = read('src/config/config.ts');
    const start = config.indexOf('const unplaced = z.object({');
    const schema = start < 0 ? '' : config.slice(start, config.indexOf('\n});', start));
    const names = [...declared, ...[...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map(([, name]) => name)];
    expect(names).toEqual(expect.arrayContaining(['PORT', 'DATA_DIR', 'JWT_SECRET', 'MAX_CONNECTIONS_PER_ADDRESS']));
    // The Redis protocol listener's settings (RESP_*) may be documented with it, in docs/redis.md.
    const documented = read('docs/configuration.md') + read('docs/redis.md');
    const missing = names.filter((name) => !documented.includes(`\`${name}\``));
    expect(missing).toStrictEqual([]);
  });

  it('docs/configuration.md (or docs/redis.md) gives each setting the default its declaration has', () => {
    const documented = read('docs/configuration.md') + read('docs/redis.md');
    const wrong: string[] = [];
    for (const { setting } of NAMESPACES.flatMap((ns) => ns.settings)) {
      // A default computed from other settings is described in words; its declaration says how (derivedDefault).
      if (setting.derivedDefault !== undefined) continue;
      const cell = new RegExp(`^\\| [^|]*\`${setting.env}\`[^|]*\\| ([^|]*)\\|`, 'm').exec(documented)?.[1].trim() ?? '(no row)';
      const value = setting.default as unknown;
      const shown =
        value === undefined ? '–'
        : typeof value === 'number' && setting.env.endsWith('_SECONDS') ? String(value / 1000) // declared in ms, documented in seconds
        : Array.isArray(value) ? value.join(',')
        : typeof value === 'object' && value !== null ? (value as { kind: string }).kind // JOURNAL_RETENTION
        : String(value);
      const first = cell.startsWith('–') ? '–' : /`([^`]*)`/.exec(cell)?.[1];
      const same = setting.env === 'DATA_DIR' ? first !== undefined && resolve(first) === shown : first === shown;
      if (!same) wrong.push(`${setting.env}: declared ${shown}, documented ${cell}`);
    }
    expect(wrong).toStrictEqual([]);
  });

  it('a LICENSE file (Apache-2.0) and package.json saying so', () => {
    expect(read('LICENSE')).toContain('Apache License\n                           Version 2.0, January 2004');
    expect((JSON.parse(read('package.json')) as { license: string }).license).toBe('Apache-2.0');
  });
});
