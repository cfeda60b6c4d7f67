import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { JwtKeys, NoJwtSecretError, resolveJwtKeys } from '../../auth/jwt-keys';
import type { AuthConfig } from '../../config/auth';
import type { JournalConfig } from '../../config/journal';
import { CliError, CliIo, configFor, write } from '../io';

export interface TokenOptions {
  readonly dataDir?: string;
  readonly org: string;
  readonly name: string;
  readonly serviceLevel?: string;
  /** Seconds until the token expires; no `exp` when absent. */
  readonly expiresIn?: number;
  /** The `operator: true` claim: the token may take and download backups of the whole instance. */
  readonly operator?: boolean;
}

/**
 * Mints an HS256 token with the settings the server reads (the same config code): JWT_SECRET,
 * or the secret file DATA_DIR/jwt-secret that the server creates on its first start when no
 * secret is configured, and JWT_ISSUER. It never creates a secret: one made here would be
 * known to no server, and its tokens refused.
 */
export async function tokenCommand(options: TokenOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  let keys: JwtKeys;
  try {
    keys = resolveJwtKeys(config, { create: false });
  } catch (error) {
    if (!(error instanceof NoJwtSecretError)) throw error;
    throw new CliError(
      `${error.message}; nothing was created.\n` +
        `  Mint with the settings your server runs with: its data directory (--data-dir DIR or DATA_DIR; here ${config.dataDir}),\n` +
        '  or its JWT_SECRET in the environment. A server started without JWT_SECRET creates DATA_DIR/jwt-secret on its first start\n' +
        '  and prints the exact command for itself.',
    );
  }
  if (keys.signKey === undefined) throw new CliError('JWT_PUBLIC_KEY is set: this service verifies tokens but cannot mint them');
  const token = new JwtService({}).sign(
    { org: options.org, name: options.name, serviceLevel: options.serviceLevel ?? 'free', ...(options.operator ? { operator: true } : {}) },
    {
      secret: keys.signKey as never,
      algorithm: 'HS256',
      ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}),
      ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    },
  );
  if (keys.secretFile) io.stderr.write(`signed with the secret in ${keys.secretFile}\n`);
  await write(io.stdout, `${token}\n`);
  return 0;
}

/** A word as a POSIX shell reads it back unchanged. */
export const shellWord = (text: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

/**
 * The command that mints a token for the server that runs with `config` (its start-up hint):
 * its data directory and issuer spelled out, so the token is signed as this server verifies
 * it whatever the shell's own DATA_DIR. `npm run` where the shell is in the package's
 * directory, else the built CLI by its path. Undefined when the server cannot mint (RS/ES keys).
 * With JWT_SECRET the command needs the same JWT_SECRET in its environment (never printed).
 */
export function tokenCommandFor(config: AuthConfig & Pick<JournalConfig, 'dataDir'>, keys: JwtKeys, org: string, name: string, cwd = process.cwd()): string | undefined {
  if (keys.signKey === undefined) return undefined;
  const root = resolve(__dirname, '..', '..', '..');
  const cli = resolve(__dirname, '..', 'main.js');
  const inPackage = resolve(cwd) === root && existsSync(join(root, 'package.json'));
  const args = ['--data-dir', config.dataDir, '--org', org, '--name', name].map(shellWord).join(' ');
  const env = config.jwtIssuer ? `JWT_ISSUER=${shellWord(config.jwtIssuer)} ` : '';
  return `TOKEN=$(${env}${inPackage ? `npm run --silent token -- ${args}` : `node ${shellWord(cli)} token ${args}`})`;
}
