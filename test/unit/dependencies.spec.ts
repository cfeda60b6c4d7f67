import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

/**
 * Every package the code imports is declared in package.json: what src/ imports (types
 * included) in `dependencies`, so a production install (`npm ci --omit=dev`, the Docker image)
 * has it, and what tests, benchmarks and scripts import in `dependencies` or
 * `devDependencies`. A package imported only by a hoisting accident (another package depends
 * on it) can disappear with any upgrade. And no installed package refuses a Node.js version
 * that `engines` accepts (npm's EBADENGINE warning).
 */
const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};
// semver is a devDependency (declared; this test checks that too).
const semver = require('semver') as { subset(sub: string, dom: string): boolean; satisfies(version: string, range: string): boolean };

function sources(dir: string): string[] {
  const full = join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Package name → the files that import it (`import ... from`, `import '...'`, `export ... from`, `require()`, `import()`). */
function importsIn(dirs: string[]): Map<string, { files: Set<string>; typeOnly: boolean }> {
  const found = new Map<string, { files: Set<string>; typeOnly: boolean }>();
  const pattern = /(?:^|[\s;])(import\s+type\s+[^'"]*?from\s*|import\s+[^'"]*?from\s*|export\s+[^'"]*?from\s*|import\s*|require\s*\(\s*|import\s*\(\s*)['"]([^'"]+)['"]/g;
  for (const file of dirs.flatMap(sources)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(pattern)) {
      const specifier = match[2];
      if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      if (builtinModules.includes(name)) continue;
      const entry = found.get(name) ?? { files: new Set<string>(), typeOnly: true };
      entry.files.add(file);
      entry.typeOnly &&= match[1].startsWith('import type');
      found.set(name, entry);
    }
  }
  return found;
}

/** True when a package ships its own type declarations. */
function hasOwnTypes(name: string): boolean {
  const dir = join(ROOT, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) return true; // not installed: the checks of what is declared name it
  const own = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { types?: string; typings?: string; main?: string; exports?: unknown };
  // As TypeScript looks: `types`/`typings`, types in `exports`, or a .d.ts beside `main` (index.js by default).
  const beside = join(dir, (own.main ?? 'index.js').replace(/\.(c|m)?js$/, '') + '.d.ts');
  return own.types !== undefined || own.typings !== undefined || existsSync(beside) || JSON.stringify(own.exports ?? '').includes('"types"');
}

describe('declared dependencies', () => {
  it('finds the imports it checks (the scan works)', () => {
    const imports = importsIn(['src']);
    for (const name of ['@nestjs/common', 'fastify', 'reflect-metadata', 'level', 'abstract-level', 'jsonwebtoken']) expect(imports.has(name)).toBe(true);
    expect(imports.get('abstract-level')!.typeOnly).toBe(true);
    expect(imports.get('fastify')!.typeOnly).toBe(false);
  });

  it('every package src/ imports is in dependencies', () => {
    const missing = [...importsIn(['src'])]
      .filter(([name]) => pkg.dependencies[name] === undefined)
      .map(([name, { files }]) => `${name} (imported by ${[...files][0]}${files.size > 1 ? ` and ${files.size - 1} more` : ''})`);
    expect(missing).toStrictEqual([]);
  });

  it('a package src/ imports that has no type declarations of its own has its @types package declared', () => {
    const declared = { ...pkg.dependencies, ...pkg.devDependencies };
    const untyped = [...importsIn(['src']).keys()].filter((name) => !hasOwnTypes(name));
    const missing = untyped.filter((name) => declared[`@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`] === undefined);
    expect(missing).toStrictEqual([]);
  });

  it('every package the tests, benchmarks and scripts import is declared', () => {
    const declared = { ...pkg.dependencies, ...pkg.devDependencies };
    const missing = [...importsIn(['test', 'bench', 'scripts'])]
      .filter(([name]) => declared[name] === undefined)
      .map(([name, { files }]) => `${name} (imported by ${[...files][0]})`);
    expect(missing).toStrictEqual([]);
  });

  it('no locked package refuses a Node.js version that engines accepts (no EBADENGINE)', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.engines !== undefined && !Array.isArray(entry.engines) && entry.engines.node !== undefined)
      .filter(([, entry]) => !semver.subset(pkg.engines.node, (entry.engines as { node: string }).node))
      .map(([path, entry]) => `${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${(entry.engines as { node: string }).node}`);
    expect(refusing).toStrictEqual([]);
  });
});
