import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The import graph of src/: each file (relative to the repository, no extension) and what it imports. */
export interface ImportGraph {
  /** Imports of project files, resolved to their file ids. */
  readonly local: Map<string, Set<string>>;
  /** Imports of packages (bare specifiers). */
  readonly packages: Map<string, Set<string>>;
}

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Reads every `.ts` file under `root/src`; type-only imports count too (they are still a dependency of the design). */
export function importGraph(root: string): ImportGraph {
  const local = new Map<string, Set<string>>();
  const packages = new Map<string, Set<string>>();
  for (const file of filesUnder(join(root, 'src'))) {
    const id = relative(root, file).replace(/\.ts$/, '');
    const text = readFileSync(file, 'utf8');
    const locals = new Set<string>();
    const pkgs = new Set<string>();
    for (const pattern of [IMPORT, DYNAMIC]) {
      for (const match of text.matchAll(pattern)) {
        const spec = match[1];
        if (spec.startsWith('.')) {
          let target = relative(root, resolve(dirname(file), spec));
          try {
            if (statSync(join(root, target)).isDirectory()) target = join(target, 'index');
          } catch {
            // a file, named without its extension
          }
          locals.add(target.replace(/\.(ts|js)$/, ''));
        } else pkgs.add(spec);
      }
    }
    local.set(id, locals);
    packages.set(id, pkgs);
  }
  return { local, packages };
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
export function cycles(graph: ImportGraph): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.local.get(node) ?? []) {
      if (!graph.local.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.local.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.local.keys()) if (!indices.has(node)) visit(node);
  return found;
}
