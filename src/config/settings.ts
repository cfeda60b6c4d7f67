import { z } from 'zod';

/**
 * The building blocks of the configuration. Each part of the service declares its settings once,
 * in its own namespace file (`server.ts`, `journal.ts`, `edge.ts`, …): the variable's name, how
 * its text is checked and turned into a value, the value when it is unset, and one line saying
 * what it does. The part's configuration type is inferred from that declaration, and
 * `loadConfig` (config.ts) reads every namespace and applies the rules that span settings.
 */

/** A setting that cannot be used; the message names the variable. */
export class ConfigError extends Error {}

/** The injection token of the loaded configuration: every namespace's slice, composed (config.ts). */
export const APP_CONFIG = Symbol('APP_CONFIG');

export type Env = Readonly<Record<string, string | undefined>>;

/** How one variable's text (undefined when unset) becomes its value; `env` names it in messages. */
export type Parser<T> = (env: string) => z.ZodType<T>;

export interface Setting<T = unknown> {
  readonly env: string;
  /** One line: what it does (docs/configuration.md says more). */
  readonly doc: string;
  readonly schema: z.ZodType<T>;
  /** The value when the variable is unset: what its parser gives for `undefined`. */
  readonly default: T;
  /** Set when the namespace's rule turns the unset value into another (computed from other settings, or read into a table): how. */
  readonly derivedDefault?: string;
}

/** Declares one setting: its variable, its parser (with its default) and a one-line doc. */
export function setting<T>(env: string, parser: Parser<T>, doc: string, options: { derivedDefault?: string } = {}): Setting<T> {
  const schema = parser(env);
  const unset = schema.safeParse(undefined);
  if (!unset.success) throw new Error(`${env}: the default does not pass its own check`);
  return { env, doc, schema, default: unset.data, ...(options.derivedDefault !== undefined ? { derivedDefault: options.derivedDefault } : {}) };
}

/** A namespace's declaration: fields holding settings, or groups of them (one object in the value). */
export interface Declaration {
  readonly [field: string]: Setting<any> | Declaration;
}

type ValueOf<E> = E extends Setting<infer T> ? T : E extends Declaration ? Values<E> : never;
/** Fields whose setting may be unset with no default (optional text): optional in the type, as `?:`. */
type MaybeUnset<D extends Declaration> = { [K in keyof D]: undefined extends ValueOf<D[K]> ? K : never }[keyof D];
type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** The values a declaration yields, field by field (its type is inferred, never written by hand). */
export type Values<D extends Declaration> = Flatten<
  { readonly [K in Exclude<keyof D, MaybeUnset<D>>]: ValueOf<D[K]> } & { readonly [K in MaybeUnset<D>]?: ValueOf<D[K]> }
>;

export interface DeclaredSetting {
  readonly namespace: string;
  /** Where its value sits in the namespace's values (and in AppConfig), e.g. `edge.maxJsonDepth`. */
  readonly path: string;
  readonly setting: Setting;
}

export interface Namespace<D extends Declaration> {
  readonly name: string;
  readonly declaration: D;
  /** Every setting of the namespace, with where its value sits. */
  readonly settings: readonly DeclaredSetting[];
  /** Reads the namespace's variables; a variable that does not pass its check adds a line to `issues`. */
  read(env: Env, issues: string[]): Values<D>;
}

export function namespace<D extends Declaration>(name: string, declaration: D): Namespace<D> {
  const settings: DeclaredSetting[] = [];
  const walk = (group: Declaration, prefix: string) => {
    for (const [field, entry] of Object.entries(group)) {
      if (isSetting(entry)) settings.push({ namespace: name, path: prefix + field, setting: entry });
      else walk(entry, `${prefix}${field}.`);
    }
  };
  walk(declaration, '');
  const schema = z.object(Object.fromEntries(settings.map(({ setting }) => [setting.env, setting.schema])));
  const build = (group: Declaration, parsed: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(group).map(([field, entry]) => [field, isSetting(entry) ? parsed[entry.env] : build(entry, parsed)]));
  return {
    name,
    declaration,
    settings,
    read(env, issues) {
      const parsed = schema.safeParse(env);
      if (!parsed.success) {
        issues.push(...parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'env'}: ${i.message}`));
        return {} as Values<D>;
      }
      return build(declaration, parsed.data as Record<string, unknown>) as Values<D>;
    },
  };
}

function isSetting(entry: Setting<any> | Declaration): entry is Setting<any> {
  return typeof entry.env === 'string' && entry.schema instanceof z.ZodType;
}

/** Throws the issues collected while reading, in the form every start-up failure takes. */
export function throwIssues(issues: readonly string[]): void {
  if (issues.length > 0) throw new ConfigError(`invalid configuration:\n${issues.join('\n')}`);
}

// Parsers. Each takes the value used when the variable is unset (or, for numbers, empty).

/** A whole number >= min; unset or blank: `fallback`. */
export const wholeNumber =
  (fallback: number, min = 0): Parser<number> =>
  (env) =>
    z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined || raw.trim() === '') return fallback;
        const value = Number(raw);
        if (!Number.isSafeInteger(value) || value < min) {
          ctx.addIssue({ code: 'custom', message: `${env} must be a whole number >= ${min}, got "${raw}"` });
          return z.NEVER;
        }
        return value;
      });

/** A whole number of seconds (>= min), read as milliseconds. */
export const seconds =
  (fallback: number, min = 0): Parser<number> =>
  (env) =>
    wholeNumber(fallback, min)(env).transform((s) => s * 1000);

/** A whole number with an upper bound too. */
export const boundedNumber =
  (fallback: number, min: number, max: number, message: (env: string) => string): Parser<number> =>
  (env) =>
    wholeNumber(fallback, min)(env).pipe(z.number().max(max, message(env)));

/** Text; unset or blank: undefined. */
export const optionalText = (): Parser<string | undefined> => () =>
  z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw));

/** Text; unset: `fallback` (blank stays blank). */
export const text = (fallback: string): Parser<string> => () => z.string().default(fallback);

/** One of a few words. */
export const oneOf =
  <const W extends readonly [string, ...string[]]>(words: W, fallback: W[number], message: string): Parser<W[number]> =>
  () =>
    z.enum(words as unknown as [W[number], ...W[number][]], { message }).default(fallback as never) as unknown as z.ZodType<W[number]>;

/** `true` or `false`. */
export const flag =
  (fallback: boolean): Parser<boolean> =>
  (env) =>
    z
      .enum(['true', 'false'], { message: `${env} must be "true" or "false"` })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true');

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
