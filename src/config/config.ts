import { resolve } from 'node:path';
import { z } from 'zod';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const wholeNumber = (name: string, fallback: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < min) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number >= ${min}, got "${raw}"` });
        return z.NEVER;
      }
      return value;
    });

const optionalText = z
  .string()
  .optional()
  .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw));

const schema = z.object({
  PORT: wholeNumber('PORT', 9001, 0),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  JWT_SECRET: optionalText,
  JWT_PUBLIC_KEY: optionalText,
  JWT_ISSUER: optionalText,
  SNAPSHOT_EVERY: wholeNumber('SNAPSHOT_EVERY', 1000, 1),
  JOURNAL_SYNC: z.enum(['always', 'none'], { message: 'JOURNAL_SYNC must be "always" or "none"' }).default('always'),
  MAX_VALUE_BYTES: wholeNumber('MAX_VALUE_BYTES', 4 * MiB, 1),
  ENABLE_ORG_SERVICE_LEVEL_SAAS: z
    .enum(['true', 'false'], { message: 'ENABLE_ORG_SERVICE_LEVEL_SAAS must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
  FREE_SERVICE_LEVEL_MAX_BYTES: wholeNumber('FREE_SERVICE_LEVEL_MAX_BYTES', 3 * GiB, 0),
  ENTITY_IDLE_SECONDS: wholeNumber('ENTITY_IDLE_SECONDS', 600, 1),
  REPAIR: z
    .enum(['true', 'false'], { message: 'REPAIR must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
});

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly jwtSecret?: string;
  readonly jwtPublicKey?: string;
  readonly jwtIssuer?: string;
  readonly snapshotEvery: number;
  readonly journalSync: 'always' | 'none';
  readonly maxValueBytes: number;
  readonly orgQuotaEnabled: boolean;
  /** Byte quota per org, by the token's `serviceLevel`. */
  readonly serviceLevelMaxBytes: Readonly<Record<string, number>>;
  readonly entityIdleMs: number;
  /** REPAIR=true (or `--repair`): truncate a damaged journal to its last good record on start. */
  readonly repair?: boolean;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'env'}: ${i.message}`).join('\n')}`);
  }
  const e = parsed.data;
  if (e.JWT_SECRET && e.JWT_PUBLIC_KEY) throw new ConfigError('invalid configuration: set JWT_SECRET or JWT_PUBLIC_KEY, not both');
  if (e.JWT_PUBLIC_KEY && !e.JWT_PUBLIC_KEY.includes('-----BEGIN')) {
    throw new ConfigError('invalid configuration: JWT_PUBLIC_KEY must be a PEM public key');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.DATA_DIR),
    jwtSecret: e.JWT_SECRET,
    jwtPublicKey: e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
    jwtIssuer: e.JWT_ISSUER,
    snapshotEvery: e.SNAPSHOT_EVERY,
    journalSync: e.JOURNAL_SYNC,
    maxValueBytes: e.MAX_VALUE_BYTES,
    orgQuotaEnabled: e.ENABLE_ORG_SERVICE_LEVEL_SAAS,
    serviceLevelMaxBytes: { free: e.FREE_SERVICE_LEVEL_MAX_BYTES },
    entityIdleMs: e.ENTITY_IDLE_SECONDS * 1000,
    repair: e.REPAIR,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
