import { parseArgs } from 'node:util';
import { JwtService } from '@nestjs/jwt';
import { loadConfig } from '../config/config';
import { resolveJwtKeys } from '../auth/jwt-keys';

/** `npm run token -- --org X --name Y [--service-level free] [--expires-in SECONDS]` */
function main(): void {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      name: { type: 'string' },
      'service-level': { type: 'string', default: 'free' },
      'expires-in': { type: 'string' },
    },
  });
  if (!values.org || !values.name) {
    console.error('usage: npm run token -- --org <org> --name <name> [--service-level free] [--expires-in <seconds>]');
    process.exit(2);
  }
  const config = loadConfig();
  const keys = resolveJwtKeys(config);
  if (!keys.signKey) {
    console.error('JWT_PUBLIC_KEY is set: tokens are minted by whoever holds the private key, not by cachelog');
    process.exit(2);
  }
  const expiresIn = values['expires-in'] ? Number(values['expires-in']) : undefined;
  if (expiresIn !== undefined && (!Number.isSafeInteger(expiresIn) || expiresIn <= 0)) {
    console.error('--expires-in must be a whole number of seconds > 0');
    process.exit(2);
  }
  const token = new JwtService({}).sign(
    { org: values.org, name: values.name, serviceLevel: values['service-level'] },
    {
      secret: keys.signKey as never,
      algorithm: 'HS256',
      ...(expiresIn ? { expiresIn } : {}),
      ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    },
  );
  process.stdout.write(`${token}\n`);
}

main();
