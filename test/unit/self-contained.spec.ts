import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * `npm ci && npm test` passes on a clone with nothing beside it: no test in `npm test` reads a
 * file outside the repository, and the code, tests and docs cite nothing a reader of the
 * repository cannot open (paths beside the clone, the tracker's issue numbers). Checks against
 * documents outside the repository live in test/upstream/ and run only through
 * `npm run test:upstream`.
 */
const ROOT = join(__dirname, '..', '..');

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => filesUnder(join(path, name)));
}

/** Text that points outside the repository or at an issue of the tracker. */
const OUTSIDE = [
  { what: 'a path beside the clone', pattern: /\.\.\/shared\b/ },
  { what: 'the shared documents folder', pattern: /\bshared\/(seeds|specs)\b/ },
  { what: 'an issue number', pattern: /\bissues? #?\d/i },
];

function jestList(config: string): string[] {
  const out = execFileSync(process.execPath, [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '-c', config, '--listTests', '--json'], {
    cwd: ROOT,
    env: { ...process.env, UPSTREAM_SPECS_DIR: '' },
  });
  return (JSON.parse(out.toString()) as string[]).map((file) => relative(ROOT, file)).sort();
}

describe('the repository stands on its own', () => {
  it('src/, test/, docs/ and the README cite no file outside the repository and no issue number', () => {
    const found: string[] = [];
    for (const file of ['src', 'test', 'docs', 'README.md'].flatMap(filesUnder)) {
      if (!/\.(ts|js|md|json|ya?ml|html)$/.test(file)) continue;
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const { what, pattern } of OUTSIDE) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
        });
    }
    expect(found).toStrictEqual([]);
  });

  it('npm test runs no check that needs a document outside the repository; test:upstream runs those', () => {
    const inNpmTest = jestList('jest.config.js');
    const upstream = jestList('jest.upstream.config.js');
    expect(inNpmTest.length).toBeGreaterThan(50);
    expect(inNpmTest.filter((file) => file.startsWith('test/upstream/'))).toStrictEqual([]);
    expect(upstream).toEqual(filesUnder('test/upstream').filter((file) => file.endsWith('.spec.ts')).sort());
    expect(upstream).toContain('test/upstream/native-openapi.spec.ts');
    // Only the upstream checks may take their documents from UPSTREAM_SPECS_DIR.
    const readers = inNpmTest.filter((file) => readFileSync(join(ROOT, file), 'utf8').includes('UPSTREAM_SPECS_DIR'));
    expect(readers).toEqual(['test/unit/self-contained.spec.ts']);
  });
});
