import { JwtService } from '@nestjs/jwt';
import { resolveJwtKeys } from '../../auth/jwt-keys';
import { CliError, CliIo, configFor, write } from '../io';

export interface TokenOptions {
  readonly dataDir?: string;
  readonly org: string;
  readonly name: string;
  readonly serviceLevel?: string;
  /** Seconds until the token expires; no `exp` when absent. */
  readonly expiresIn?: number;
}

/**
 * Mints an HS256 token with JWT_SECRET, or with the secret file DATA_DIR/jwt-secret that the
 * server uses when no secret is configured (created if missing, as `npm start` would).
 */
export async function tokenCommand(options: TokenOptions, io: CliIo): Promise<number> {
  const config = configFor(io, options.dataDir);
  const keys = resolveJwtKeys(config);
  if (keys.signKey === undefined) throw new CliError('JWT_PUBLIC_KEY is set: this service verifies tokens but cannot mint them');
  const token = new JwtService({}).sign(
    { org: options.org, name: options.name, serviceLevel: options.serviceLevel ?? 'free' },
    {
      secret: keys.signKey as never,
      algorithm: 'HS256',
      ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}),
      ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    },
  );
  if (keys.secretFile) io.stderr.write(`signed with the secret in ${keys.secretFile}${keys.generated ? ' (created now)' : ''}\n`);
  await write(io.stdout, `${token}\n`);
  return 0;
}
