import { readFileSync } from 'node:fs';
import { ConfigError, Values, boundedNumber, namespace, optionalText, setting, text, wholeNumber } from './settings';

/** The HTTP listener: where it listens, HTTPS, and how it stops. */
export const serverSettings = namespace('server', {
  port: setting('PORT', wholeNumber(9001, 0), 'HTTP port (0: any free port)'),
  host: setting('HOST', text('127.0.0.1'), 'interface every listener binds (0.0.0.0: the network)'),
  tls: {
    cert: setting('TLS_CERT', optionalText(), 'PEM certificate file: HTTPS (and TLS for RESP) instead of plain; with TLS_KEY'),
    key: setting('TLS_KEY', optionalText(), 'PEM key file of TLS_CERT'),
  },
  shutdownGraceMs: setting(
    'SHUTDOWN_GRACE_SECONDS',
    (env) => boundedNumber(0, 0, 300, () => `${env} must be at most 300`)(env).transform((s) => s * 1000),
    'on SIGTERM, answer 503 on /health/ready this long before the listener closes',
  ),
});

/** The TLS files are read here, at start: a missing one stops the start with its name. */
export function serverConfig(values: Values<typeof serverSettings.declaration>) {
  return { ...values, tls: loadTls(values.tls.cert, values.tls.key) };
}

export type ServerConfig = ReturnType<typeof serverConfig>;

function loadTls(certPath: string | undefined, keyPath: string | undefined): { readonly cert: Buffer; readonly key: Buffer } | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) throw new ConfigError('invalid configuration: set both TLS_CERT and TLS_KEY, or neither');
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`invalid configuration: ${name} (${path}) cannot be read: ${(error as Error).message}`);
    }
  };
  return { cert: read('TLS_CERT', certPath), key: read('TLS_KEY', keyPath) };
}
