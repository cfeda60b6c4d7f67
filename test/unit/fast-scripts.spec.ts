import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm start`, `npm run token` and `npm run cachelog` compile only when a source changed:
 * they build with `tsc --build` (incremental, with its build info in dist/), which compares
 * the sources with that record and compiles nothing when they are unchanged, and they call it
 * directly (no nested `npm run`). The type check keeps its build info apart, so running it does
 * not make the build look stale. `.ci/run` removes dist/ first, so CI builds from scratch.
 */
const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const tsconfig = (name: string) => JSON.parse(readFileSync(join(ROOT, name), 'utf8')) as { compilerOptions: Record<string, unknown> };

describe('fast scripts', () => {
  it('start, token, cachelog and test build with tsc --build, called directly', () => {
    const build = pkg.scripts.build;
    expect(build).toBe('tsc --build tsconfig.build.json');
    expect(pkg.scripts.start).toBe(`${build} && node dist/main.js`);
    expect(pkg.scripts.token).toBe(`${build} && node dist/cli/main.js token`);
    expect(pkg.scripts.cachelog).toBe(`${build} && node dist/cli/main.js`);
    // Jest runs after the build, with room on the heap for a whole in-band run (see .ci/run).
    expect(pkg.scripts.test).toContain(`&& ${build} && node --max-old-space-size=8192 node_modules/jest/bin/jest.js`);
  });

  it('the build and the type check keep separate build info', () => {
    const build = tsconfig('tsconfig.build.json').compilerOptions.tsBuildInfoFile;
    const check = tsconfig('tsconfig.json').compilerOptions.tsBuildInfoFile;
    expect(build).toBe('./dist/.tsbuildinfo');
    expect(check).toBeDefined();
    expect(check).not.toBe(build);
  });

  it('right after a build, the next build has nothing to compile', () => {
    execFileSync(process.execPath, [TSC, '--build', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    const dry = execFileSync(process.execPath, [TSC, '--build', 'tsconfig.build.json', '--dry', '--verbose'], { cwd: ROOT }).toString();
    expect(dry).toMatch(/Project '.*tsconfig\.build\.json' is up to date/);
    expect(dry).not.toContain('would build');
  });

  it('CI removes the build output before it builds', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const clean = ci.indexOf('rm -rf dist dist-tools');
    expect(clean).toBeGreaterThan(0);
    expect(clean).toBeLessThan(ci.indexOf('npm test -- --ci'));
  });
});
