import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger as PinoLogger, LevelWithSilent } from 'pino';
import type { LogsConfig } from '../config/logs';
import { SECRET_QUERY_PARAMS } from '../families';

/** Nest's log levels, as `createApp`'s `logger` option takes them (tests pass `['error']`). */
export type NestLogLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

const NEST_TO_PINO: Record<NestLogLevel, LevelWithSilent> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };
const PINO_ORDER: LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * Query parameters whose values are never logged: those a family's profile names as carrying
 * its credentials (Momento's `?token=`, IronCache's `?oauth=`), on every path, and anything
 * else that could carry a credential or a value.
 */
const SECRET_PARAMS = new Set([...SECRET_QUERY_PARAMS, 'access_token', 'jwt', 'authorization', 'value', 'password', 'secret']);

/** The URL with the values of secret query parameters replaced (names are decoded first, so `%74oken` is caught too). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const parts: string[] = [];
  for (const [name, value] of params) {
    parts.push(`${encodeURIComponent(name)}=${SECRET_PARAMS.has(name.toLowerCase()) ? '[REDACTED]' : encodeURIComponent(value)}`);
  }
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

export interface LoggingOptions {
  /** Nest-style levels (tests: `['error']`), or `false` for none; overrides LOG_LEVEL. */
  readonly levels?: false | readonly NestLogLevel[];
  /** Where lines go instead of stdout (a test reads them). */
  readonly destination?: DestinationStream;
}

/**
 * The one logger of the process: pino, shared by Fastify (requests) and Nest (everything
 * else). JSON lines by default; pino-pretty on a terminal or with LOG_FORMAT=pretty.
 * Requests are logged by method, redacted URL, status and time; headers and bodies never.
 */
export function createLogger(config: LogsConfig, options: LoggingOptions = {}): PinoLogger {
  const level = options.levels === undefined ? config.logLevel : leastSevere(options.levels);
  const pretty = options.destination === undefined && prettyLogs(config);
  const pinoOptions: pino.LoggerOptions = {
    level,
    base: { service: 'cachelog' },
    timestamp: isoTimeOncePerMs,
    // Belt and braces: nothing should log headers, but if anything does, not these.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'], censor: '[REDACTED]' },
    serializers: {
      req: (request: { method?: string; url?: string; id?: string }) => ({ method: request.method, url: redactUrl(request.url ?? '') }),
      res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
  if (pretty) {
    // Loaded only here: production (JSON) never needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pinoPretty = require('pino-pretty') as (options: object) => DestinationStream;
    return pino(pinoOptions, pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,context', messageFormat: '{if context}[{context}] {end}{msg}', sync: true }));
  }
  return pino(pinoOptions, options.destination ?? stdoutDestination(config.logBufferBytes, config.logMaxPendingBytes));
}

let stampedAt = NaN;
let stamp = '';
/** pino's ISO time, formatted once per millisecond rather than once per line (a few per ms under load). */
export function isoTimeOncePerMs(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

/** What the one line per request says. */
export interface RequestLine {
  readonly reqId: string;
  readonly method: string;
  readonly url: string;
  readonly statusCode: number;
  /** ms */
  readonly responseTime: number;
}

/**
 * Writes the line per request into `log`'s stream as pino would write
 * `log.info({ reqId, req: { method, url }, res: { statusCode }, responseTime }, 'request completed')`
 * (same fields, same order), with the URL's secrets redacted, but from a template, and the
 * lines of one event-loop turn handed to the stream as one string: through pino, its
 * serializers and redaction, and one stream write per line, the line cost 13 of a GET's
 * 57 µs of server CPU. Every other line goes through pino. The batch is written at the end
 * of the turn (setImmediate), so no line waits longer than that beyond the stream's own buffer.
 */
export function requestLineWriter(log: PinoLogger): ((line: RequestLine) => void) | undefined {
  if (!log.isLevelEnabled('info')) return undefined;
  const symbols = pino.symbols as unknown as { streamSym: symbol; chindingsSym: symbol; timeSym: symbol };
  const fields = log as unknown as Record<symbol, unknown>;
  const stream = fields[symbols.streamSym] as { write(text: string): void };
  const bindings = fields[symbols.chindingsSym] as string;
  const timestamp = fields[symbols.timeSym] as () => string;
  let batch: string[] = [];
  const writeBatch = () => {
    const lines = batch;
    batch = [];
    stream.write(lines.length === 1 ? lines[0] : lines.join(''));
  };
  return (line) => {
    // The method is one of the tokens Node's parser accepts; the id and the URL are escaped.
    if (batch.push(`{"level":30${timestamp()}${bindings},"reqId":${JSON.stringify(line.reqId)},"req":{"method":"${line.method}","url":${JSON.stringify(redactUrl(line.url))}},"res":{"statusCode":${line.statusCode}},"responseTime":${line.responseTime},"msg":"request completed"}\n`) === 1) {
      setImmediate(writeBatch);
    }
  };
}

/**
 * Fastify's `request.log`, made a pino child only when something logs through it (errors,
 * mostly): creating a child per request cost every request, and the one line per request is
 * written by the root logger with the request id (request-observer.ts).
 */
export class LazyRequestLogger {
  private real: PinoLogger | undefined;

  constructor(
    private readonly parent: PinoLogger,
    private readonly bindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
  ) {}

  static factory(parent: PinoLogger, bindings: pino.Bindings, options: pino.ChildLoggerOptions): LazyRequestLogger {
    return new LazyRequestLogger(parent, bindings, options);
  }

  get level(): string {
    return this.parent.level;
  }
  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }
  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): PinoLogger {
    return this.logger.child(bindings, options);
  }
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  private get logger(): PinoLogger {
    return (this.real ??= this.parent.child(this.bindings, this.options));
  }

  private write(level: pino.Level, args: unknown[]): void {
    if (this.parent.isLevelEnabled(level)) (this.logger[level] as (...a: unknown[]) => void)(...args);
  }
}

/** Lines for stdout held back at most this long, so a collector sees them promptly. */
const LOG_FLUSH_MS = 250;

/**
 * stdout for JSON lines. With a buffer, lines are written in chunks, asynchronously: one
 * write per few dozen requests instead of a blocking write per request (a quarter of a GET's
 * main-thread time at LOG_LEVEL=info, docs/performance.md). sonic-boom flushes them every
 * LOG_FLUSH_MS, and pino at exit; a kill -9 loses at most that much log. A reader that stalls
 * makes lines drop beyond `maxPendingBytes` (counted, and said in a line once stdout takes
 * lines again) instead of holding the service's memory or its event loop.
 */
function stdoutDestination(bufferBytes: number, maxPendingBytes: number): DestinationStream {
  if (bufferBytes === 0) return pino.destination({ dest: 1, sync: true });
  const destination = pino.destination({ dest: 1, sync: false, minLength: bufferBytes, maxLength: maxPendingBytes, periodicFlush: LOG_FLUSH_MS });
  let dropped = 0;
  let warning: string | undefined;
  let warningDropped = false;
  // 'drop' is emitted inside write(), so the warning line can tell its own drop from others.
  destination.on('drop', (data: string) => {
    if (data === warning) warningDropped = true;
    else dropped += data.split('\n').length - 1;
  });
  setInterval(() => {
    if (dropped === 0) return;
    const count = dropped;
    warning = `${JSON.stringify({ level: 40, time: new Date().toISOString(), service: 'cachelog', context: 'Logging', msg: `stdout did not take ${count} log lines in time (LOG_MAX_PENDING_BYTES); they were dropped` })}\n`;
    warningDropped = false;
    dropped = 0;
    destination.write(warning);
    warning = undefined;
    if (warningDropped) dropped += count; // still full: say it at the next tick
  }, LOG_FLUSH_MS).unref();
  return destination;
}

/** Pretty (for a person at a terminal) rather than JSON lines (for a collector)? */
export function prettyLogs(config: LogsConfig): boolean {
  const format = config.logFormat;
  return format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
}

function leastSevere(levels: false | readonly NestLogLevel[]): LevelWithSilent {
  if (levels === false || levels.length === 0) return 'silent';
  return PINO_ORDER.find((level) => levels.some((l) => NEST_TO_PINO[l] === level)) ?? 'silent';
}

/** A request id per request: the client's `X-Request-Id` when it is sane, else a fresh UUID. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Nest's start-up chatter (every module and route) is debug, not info. */
const CHATTY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Nest's LoggerService over the same pino logger, with the Nest context as `context`. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    this.write(CHATTY_CONTEXTS.has(context ?? '') ? 'debug' : 'info', message, context);
  }
  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack?, context?).
    const context = contextOf(params);
    const stack = params.length >= 2 && typeof params[0] === 'string' ? params[0] : undefined;
    this.write('error', message, context, stack);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, contextOf(params));
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, contextOf(params));
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, contextOf(params));
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, contextOf(params));
  }

  private write(level: pino.Level, message: unknown, context: string | undefined, stack?: string): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    if (message instanceof Error) this.pino[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.pino[level]({ ...fields, ...message });
    else this.pino[level](fields, String(message));
  }
}

function contextOf(params: unknown[]): string | undefined {
  const last = params[params.length - 1];
  return typeof last === 'string' ? last : undefined;
}
