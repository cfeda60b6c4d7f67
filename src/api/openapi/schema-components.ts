import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { schemaNames } from '../contract/route-contract';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

const PREFIX = '#/components/schemas/';

/**
 * The named models of the OpenAPI document (`components.schemas`): each request or response
 * body schema becomes one component, and so does every schema inside it that its contract
 * named (`named(...)`), referenced by `$ref`, so a code generator makes one type per model.
 *
 * zod converts one schema at a time and puts the named schemas it meets in `$defs`; they are
 * moved here. The same name can come out twice with different JSON (a schema read as a
 * request and as a response differs in `additionalProperties`): the later one gets a suffix.
 */
export class SchemaComponents {
  readonly schemas: Record<string, Json> = {};
  private readonly done: Record<Io, WeakMap<z.ZodType, string>> = { input: new WeakMap(), output: new WeakMap() };

  /** A `$ref` to the component of `schema` read as `io`, named by its contract or else `fallback`. */
  ref(schema: z.ZodType, io: Io, fallback: string): Json {
    let name = this.done[io].get(schema);
    if (name === undefined) {
      name = this.add(schema, io, schemaNames.get(schema)?.name ?? fallback);
      this.done[io].set(schema, name);
    }
    return { $ref: PREFIX + name };
  }

  private add(schema: z.ZodType, io: Io, rootName: string): string {
    // zod extracts into $defs every schema whose metadata has an `id`: the named ones and the root.
    const metadata = {
      get: (inner: z.ZodType) => {
        const meta = z.globalRegistry.get(inner);
        const id = inner === schema ? rootName : schemaNames.get(inner)?.name;
        return id === undefined ? meta : { ...meta, id };
      },
    } as unknown as z.core.$ZodRegistry<Record<string, unknown>>;
    const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', metadata }) as Json;
    const { $defs = {}, $ref, $schema: _dialect, ...rest } = converted as { $defs?: Record<string, Json>; $ref?: string; $schema?: string };
    const defs: Record<string, Json> = { ...$defs };
    let root = typeof $ref === 'string' ? $ref.slice('#/$defs/'.length) : rootName;
    if (typeof $ref !== 'string') defs[rootName] = rest;
    // Final names: a def's own, unless an earlier model took it with other JSON. Renaming one
    // changes the refs of those that hold it, so this runs until nothing moves.
    const rename = new Map(Object.keys(defs).map((id) => [id, id]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const [id, body] of Object.entries(defs)) {
        const name = rename.get(id)!;
        const existing = this.schemas[name];
        if (existing !== undefined && !isDeepStrictEqual(existing, relink(body, rename))) {
          rename.set(id, this.freeName(id, io, relink(body, rename)));
          changed = true;
        }
      }
    }
    for (const [id, body] of Object.entries(defs)) this.schemas[rename.get(id)!] ??= relink(body, rename);
    root = rename.get(root) ?? root;
    return root;
  }

  private freeName(id: string, io: Io, body: Json): string {
    const base = io === 'input' ? `${id}Input` : id;
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? base : `${base}${n}`;
      const existing = this.schemas[candidate];
      if (existing === undefined || isDeepStrictEqual(existing, body)) return candidate;
    }
  }
}

/** `#/$defs/X` references as component references, by their final names. */
function relink(value: Json, rename: ReadonlyMap<string, string>): Json {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, inner]) => {
        if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
          const id = inner.slice('#/$defs/'.length);
          return [key, PREFIX + (rename.get(id) ?? id)];
        }
        return [key, walk(inner)];
      }),
    );
  };
  return walk(value) as Json;
}
