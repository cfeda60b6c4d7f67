import { Values, boundedNumber, namespace, oneOf, setting, wholeNumber } from './settings';

/** The log: how much, in which form, and how it is written to stdout. */
export const logsSettings = namespace('logs', {
  logLevel: setting(
    'LOG_LEVEL',
    oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'),
    'least severe level written (info: one line per request)',
  ),
  logFormat: setting('LOG_FORMAT', oneOf(['auto', 'json', 'pretty'], 'auto', 'LOG_FORMAT must be "auto", "json" or "pretty"'), 'json lines, pretty for people; auto: pretty on a terminal, else JSON'),
  logBufferBytes: setting(
    'LOG_BUFFER_BYTES',
    boundedNumber(4096, 0, 1024 * 1024, (env) => `${env} must be at most 1048576`),
    'JSON lines to stdout are written in chunks of this size (and at least every 250 ms); 0: each line at once',
  ),
  logMaxPendingBytes: setting('LOG_MAX_PENDING_BYTES', wholeNumber(16 * 1024 * 1024, 64 * 1024), 'log bytes a stalled stdout may owe before lines are dropped (and counted)'),
});

export function logsConfig(values: Values<typeof logsSettings.declaration>) {
  return values;
}

export type LogsConfig = ReturnType<typeof logsConfig>;
