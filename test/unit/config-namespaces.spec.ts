import { NAMESPACES, loadConfig } from '../../src/config/config';
import { DeclaredSetting } from '../../src/config/settings';

/**
 * Every setting is declared once, in one namespace (src/config/<namespace>.ts), and what
 * loadConfig gives for an empty environment is what the declarations say, setting by setting.
 */
describe('the configuration namespaces', () => {
  const declared: DeclaredSetting[] = NAMESPACES.flatMap((ns) => ns.settings);

  it('declares each variable exactly once, in one namespace', () => {
    const seen = new Map<string, string[]>();
    for (const { namespace, path, setting } of declared) seen.set(setting.env, [...(seen.get(setting.env) ?? []), `${namespace}.${path}`]);
    const twice = [...seen].filter(([, places]) => places.length > 1);
    expect(twice).toStrictEqual([]);
    expect(declared.length).toBeGreaterThan(0);
  });

  it('gives each namespace a distinct name, and each setting a one-line doc', () => {
    const names = NAMESPACES.map((ns) => ns.name);
    expect(new Set(names).size).toBe(names.length);
    for (const { setting } of declared) {
      expect(`${setting.env}: ${setting.doc.length > 0 && !setting.doc.includes('\n')}`).toBe(`${setting.env}: true`);
      expect(setting.env).toMatch(/^[A-Z][A-Z0-9_]*$/);
    }
  });

  it('takes the defaults from the declarations (but those derived from other settings)', () => {
    // A group that is there only when another setting turns it on is compared with that setting on.
    const GROUPS_ON: Record<string, Record<string, string>> = { nats: { JOURNAL: 'nats' } };
    const at = (path: string) => {
      const config = loadConfig(GROUPS_ON[path.split('.')[0]] ?? {}) as unknown as Record<string, unknown>;
      return path.split('.').reduce<unknown>((value, field) => (value as Record<string, unknown> | undefined)?.[field], config);
    };
    const mismatches: string[] = [];
    for (const { path, setting } of declared) {
      if (setting.derivedDefault !== undefined) continue;
      if (!isDeepEqual(at(path), setting.default)) mismatches.push(`${setting.env} (${path}): declared ${JSON.stringify(setting.default)}, loaded ${JSON.stringify(at(path))}`);
    }
    expect(mismatches).toStrictEqual([]);
  });

  it('says how every derived default is derived', () => {
    for (const { setting } of declared.filter(({ setting }) => setting.derivedDefault !== undefined)) expect(setting.derivedDefault!.length).toBeGreaterThan(0);
  });
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}
