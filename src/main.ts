import './compile-cache';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { AuthService, JWT_KEYS } from './auth/auth.service';
import { JwtKeys } from './auth/jwt-keys';
import { tokenCommandFor } from './cli/commands/token.command';
import { ConfigError, loadConfig } from './config/config';
import { prettyLogs } from './ops/logging';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.includes('--repair') ? { ...process.env, REPAIR: 'true' } : process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  const logger = new Logger('cachelog');
  // Clean shutdown: stop listening, drain mailboxes, flush the journal, snapshot, exit 0.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    app.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = config.tls ? 'https' : 'http';
  logger.log(`listening on ${scheme}://${config.host}:${port} with data in ${config.dataDir}`);
  const keys = app.get<JwtKeys>(JWT_KEYS);
  // The exact command for this server: its data directory (and issuer) spelled out.
  const mint = tokenCommandFor(config, keys, 'dev', 'dev');
  if (keys.secretFile) {
    logger.log(`no JWT_SECRET or JWT_PUBLIC_KEY set: using the secret in ${keys.secretFile}${keys.generated ? ' (created now)' : ''}`);
    // Tokens stay out of logs a collector keeps: the ready-made dev token is shown on a terminal only.
    if (prettyLogs(config)) {
      const token = app.get(AuthService).sign({ org: 'dev', name: 'dev' });
      logger.log(`a token for org "dev": ${token}`);
      logger.log(`try: curl -H "Authorization: Bearer ${token}" ${scheme}://${config.host}:${port}/cacheName/list`);
      logger.log(`or open ${scheme}://${config.host}:${port}/console and paste it`);
    }
    logger.log(`mint a token with: ${mint}`);
  } else if (mint !== undefined) {
    logger.log(`mint a token (with this server's JWT_SECRET in the environment) with: ${mint}`);
  }
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else if ((error as { code?: string })?.code === 'JOURNAL_CORRUPT' || (error as { code?: string })?.code === 'JOURNAL_SEQUENCE_GAP') {
    console.error(`cachelog refuses to start: ${(error as Error).message}`);
  } else console.error(error);
  process.exit(1);
});
