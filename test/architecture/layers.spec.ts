import { cycles, importGraph } from './import-graph';

/**
 * The layers keep their direction: the domain is pure, the core and everything below it know
 * no transport, and no file imports one that imports it back.
 */
describe('the import graph of src/', () => {
  const graph = importGraph(process.cwd());
  const filesUnder = (...folders: string[]) => [...graph.local.keys()].filter((id) => folders.some((folder) => id.startsWith(`src/${folder}/`)));
  const HTTP_PACKAGES = /^(fastify|@fastify\/|@nestjs\/platform-fastify)/;

  it('reads the whole tree (the check itself can see imports)', () => {
    expect(graph.local.get('src/core/cache-gateway')).toEqual(expect.any(Set));
    expect([...graph.local.get('src/core/cache-gateway')!]).toContain('src/entities/entity-registry');
    expect([...graph.packages.get('src/api/cache.service')!]).toContain('fastify');
  });

  it.each(['core', 'domain', 'entities', 'journal'])('src/%s imports no HTTP package and nothing under src/api or a transport', (layer) => {
    const offences: string[] = [];
    for (const file of filesUnder(layer)) {
      for (const pkg of graph.packages.get(file)!) if (HTTP_PACKAGES.test(pkg) || pkg === 'node:net' || pkg === 'net') offences.push(`${file} → ${pkg}`);
      for (const target of graph.local.get(file)!) if (target.startsWith('src/api/') || target.startsWith('src/redis/')) offences.push(`${file} → ${target}`);
    }
    expect(offences).toStrictEqual([]);
  });

  it('has the Redis protocol reach the caches and their history through the core, never through an HTTP family (src/redis imports nothing under src/api)', () => {
    const offences: string[] = [];
    for (const file of filesUnder('redis')) {
      for (const target of graph.local.get(file)!) if (target.startsWith('src/api/')) offences.push(`${file} → ${target}`);
    }
    expect(filesUnder('redis').length).toBeGreaterThan(10);
    expect(offences).toStrictEqual([]);
  });

  it('keeps the domain pure: it imports only itself and no I/O, Nest, storage, rxjs or xstate package', () => {
    const offences: string[] = [];
    for (const file of filesUnder('domain')) {
      for (const pkg of graph.packages.get(file)!) offences.push(`${file} → ${pkg}`);
      for (const target of graph.local.get(file)!) if (!target.startsWith('src/domain/')) offences.push(`${file} → ${target}`);
    }
    expect(offences).toStrictEqual([]);
  });

  it('has no layer below the core importing the core', () => {
    const offences: string[] = [];
    for (const file of filesUnder('domain', 'entities', 'journal', 'projections')) {
      for (const target of graph.local.get(file)!) if (target.startsWith('src/core/')) offences.push(`${file} → ${target}`);
    }
    expect(offences).toStrictEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toStrictEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const looped = { local: new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]), packages: new Map() };
    expect(cycles(looped)).toEqual([['a', 'b', 'c']]);
  });
});
