import { z } from 'zod';
import { ConfigError, throwIssues } from './settings';
import { ServerConfig, serverConfig, serverSettings } from './server';
import { AuthConfig, authConfig, authSettings } from './auth';
import { JournalConfig, journalConfig, journalSettings } from './journal';
import { LogsConfig, logsConfig, logsSettings } from './logs';
import { MetricsConfig, metricsConfig, metricsSettings } from './metrics';
import { TasksConfig, tasksConfig, tasksSettings } from './tasks';

export { APP_CONFIG, ConfigError } from './settings';
export type { ServerConfig } from './server';
export { MIN_JWT_SECRET_BYTES } from './auth';
export type { AuthConfig } from './auth';
export { parseRetention } from './journal';
export type { JournalConfig, NatsSettings, RetentionPolicy } from './journal';
export type { LogsConfig } from './logs';
export type { MetricsConfig } from './metrics';
export type { TasksConfig } from './tasks';

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
  // Empty: 4 MiB, or 960 KiB with JOURNAL=nats (an event is one NATS message; servers take 1 MiB by default).
  MAX_VALUE_BYTES: wholeNumber('MAX_VALUE_BYTES', 0, 1).optional(),
  ENABLE_ORG_SERVICE_LEVEL_SAAS: z
    .enum(['true', 'false'], { message: 'ENABLE_ORG_SERVICE_LEVEL_SAAS must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
  FREE_SERVICE_LEVEL_MAX_BYTES: wholeNumber('FREE_SERVICE_LEVEL_MAX_BYTES', 3 * GiB, 0),
  ENTITY_IDLE_SECONDS: wholeNumber('ENTITY_IDLE_SECONDS', 600, 1),
  MAX_ENTITIES_PER_ORG: wholeNumber('MAX_ENTITIES_PER_ORG', 2000, 1),
  HISTORY_STREAM_BUFFER: wholeNumber('HISTORY_STREAM_BUFFER', 1000, 1),
  MAX_CACHES_PER_ORG: wholeNumber('MAX_CACHES_PER_ORG', 10_000, 1),
  // The HTTP edge (docs/security.md): what one request, client or connection may cost.
  MAX_CONTROL_BODY_BYTES: wholeNumber('MAX_CONTROL_BODY_BYTES', 64 * 1024, 1),
  MAX_BATCH_BODY_BYTES: wholeNumber('MAX_BATCH_BODY_BYTES', 0, 0),
  MAX_BATCH_ELEMENTS: wholeNumber('MAX_BATCH_ELEMENTS', 10_000, 1),
  MAX_EVENTS_PER_COMMAND: wholeNumber('MAX_EVENTS_PER_COMMAND', 50_000, 1),
  MAX_JSON_DEPTH: wholeNumber('MAX_JSON_DEPTH', 16, 2),
  // The Upstash-style Redis REST API (docs/redis.md): one /pipeline or /multi-exec request.
  UPSTASH_MAX_PIPELINE_COMMANDS: wholeNumber('UPSTASH_MAX_PIPELINE_COMMANDS', 1000, 1),
  UPSTASH_MAX_PIPELINE_BYTES: wholeNumber('UPSTASH_MAX_PIPELINE_BYTES', 0, 0),
  MAX_RESPONSE_BYTES: wholeNumber('MAX_RESPONSE_BYTES', 32 * MiB, 1024),
  EVENTS_PAGE_MAX_BYTES: wholeNumber('EVENTS_PAGE_MAX_BYTES', 8 * MiB, 1),
  SSE_QUEUE_BYTES: wholeNumber('SSE_QUEUE_BYTES', 8 * MiB, 1),
  SSE_MAX_CLIENTS_PER_ORG: wholeNumber('SSE_MAX_CLIENTS_PER_ORG', 32, 1),
  SSE_MAX_CLIENTS_PER_TOKEN: wholeNumber('SSE_MAX_CLIENTS_PER_TOKEN', 8, 1),
  POINT_IN_TIME_MAX_EVENTS: wholeNumber('POINT_IN_TIME_MAX_EVENTS', 20_000, 1),
  POINT_IN_TIME_MAX_BYTES: wholeNumber('POINT_IN_TIME_MAX_BYTES', 64 * MiB, 1),
  POINT_IN_TIME_MAX_PER_ORG: wholeNumber('POINT_IN_TIME_MAX_PER_ORG', 2, 1),
  CONNECTION_IDLE_TIMEOUT_SECONDS: wholeNumber('CONNECTION_IDLE_TIMEOUT_SECONDS', 60, 1),
  REQUEST_TIMEOUT_SECONDS: wholeNumber('REQUEST_TIMEOUT_SECONDS', 60, 1),
  HEADERS_TIMEOUT_SECONDS: wholeNumber('HEADERS_TIMEOUT_SECONDS', 10, 1),
  KEEP_ALIVE_TIMEOUT_SECONDS: wholeNumber('KEEP_ALIVE_TIMEOUT_SECONDS', 10, 1),
  MAX_CONNECTIONS: wholeNumber('MAX_CONNECTIONS', 800, 1),
  MAX_CONNECTIONS_PER_ADDRESS: wholeNumber('MAX_CONNECTIONS_PER_ADDRESS', 256, 1),
  // 0: a quarter of MAX_CONNECTIONS (at least 1).
  MAX_ANONYMOUS_CONNECTIONS: wholeNumber('MAX_ANONYMOUS_CONNECTIONS', 0, 0),
  MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS: wholeNumber('MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS', 16, 1),
  // The Redis protocol listener (docs/redis.md).
  RESP_PORT: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const text = raw?.trim() ?? '';
      if (text === '') return undefined;
      if (text === 'off') return 'off' as const;
      const port = Number(text);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `RESP_PORT must be a port (0-65535, 0: any free port) or "off", got "${raw}"` });
        return z.NEVER;
      }
      return port;
    }),
  RESP_MAX_QUERY_BYTES: wholeNumber('RESP_MAX_QUERY_BYTES', 0, 0),
  RESP_MAX_MULTIBULK: wholeNumber('RESP_MAX_MULTIBULK', 1024 * 1024, 1),
  RESP_MAX_OUTPUT_BYTES: wholeNumber('RESP_MAX_OUTPUT_BYTES', 64 * MiB, 64 * 1024),
  RESP_IDLE_TIMEOUT_SECONDS: wholeNumber('RESP_IDLE_TIMEOUT_SECONDS', 300, 0),
  RESP_AUTH_TIMEOUT_SECONDS: wholeNumber('RESP_AUTH_TIMEOUT_SECONDS', 10, 1),
  RESP_MAX_CONNECTIONS: wholeNumber('RESP_MAX_CONNECTIONS', 0, 0),
});

/** The Redis protocol listener (RESP_*): where it listens and what one connection may cost. */
export interface RespSettings {
  /** The port; `off`: no listener. Default 6380, or 0 (any free port) when PORT is 0. */
  readonly port: number | 'off';
  /** RESP_PORT was set: a port in use stops the start. Unset (the default port): a warning, and no listener. */
  readonly portExplicit: boolean;
  /** Bytes buffered for one command not yet complete; beyond it the connection is closed. */
  readonly maxQueryBytes: number;
  /** Arguments of one command. */
  readonly maxMultibulk: number;
  /** Reply bytes waiting for a client that does not read; beyond it the client is disconnected. */
  readonly maxOutputBytes: number;
  /** A connection with no traffic this long is closed (0: never). */
  readonly idleTimeoutMs: number;
  /** A connection that has not authenticated this long after it opened is closed. */
  readonly authTimeoutMs: number;
  /** Open RESP connections in all; per address, MAX_CONNECTIONS_PER_ADDRESS applies. */
  readonly maxConnections: number;
}

/** What one request, one client and one connection may cost at the HTTP edge (docs/security.md). */
export interface EdgeLimits {
  /** JSON body of a control route (names, settings, tasks, increments). */
  readonly maxControlBodyBytes: number;
  /** JSON body of a value route (`/set`, IronCache PUT): base64 of MAX_VALUE_BYTES plus an envelope. */
  readonly maxValueJsonBytes: number;
  /** JSON body of `POST|DELETE /batch` and `POST /batch/get`. */
  readonly maxBatchBodyBytes: number;
  readonly maxBatchElements: number;
  /** Commands of one Upstash-style `/pipeline` or `/multi-exec` request (UPSTASH_MAX_PIPELINE_COMMANDS). */
  readonly maxPipelineCommands: number;
  /** Its JSON body (UPSTASH_MAX_PIPELINE_BYTES; default: that of a batch). */
  readonly maxPipelineBytes: number;
  /** Events one command may append (a capacity cut's evictions, a restore's sets): one write, one pause of the event loop. */
  readonly maxEventsPerCommand: number;
  /** Arrays and objects nested deeper than this are refused before JSON.parse. */
  readonly maxJsonDepth: number;
  /** A response that carries many values or names (batch get, key and name listings). */
  readonly maxResponseBytes: number;
  readonly eventsPageMaxBytes: number;
  readonly sseQueueBytes: number;
  readonly sseMaxClientsPerOrg: number;
  /** Open event streams one token may hold (a share of its org's, so one client cannot take them all). */
  readonly sseMaxClientsPerToken: number;
  /** Events a point-in-time read may scan or replay. */
  readonly pointInTimeMaxEvents: number;
  /** Bytes a point-in-time read may decode: its snapshot by stored size (checked before decoding), then the state it replays to. */
  readonly pointInTimeMaxBytes?: number;
  /** Point-in-time reads one org may have running at once (429 beyond). */
  readonly pointInTimeMaxPerOrg?: number;
  readonly connectionIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /**
   * Connections that carry no authenticated request (yet): in all, and per address. Beyond
   * either, a new connection takes the place of the oldest idle one (see connection-limits.ts).
   */
  readonly maxAnonymousConnections: number;
  readonly maxAnonymousConnectionsPerAddress: number;
}

export interface AppConfig extends ServerConfig, AuthConfig, JournalConfig, LogsConfig, MetricsConfig, TasksConfig {
  readonly maxValueBytes: number;
  readonly orgQuotaEnabled: boolean;
  /** Byte quota per org, by the token's `serviceLevel`. */
  readonly serviceLevelMaxBytes: Readonly<Record<string, number>>;
  readonly entityIdleMs: number;
  /** Caches one org may have loaded in memory (MAX_ENTITIES_PER_ORG); one more passivates the org's least recently used idle one. */
  readonly maxEntitiesPerOrg?: number;
  /** Events an SSE history client may have waiting before it is dropped (HISTORY_STREAM_BUFFER). */
  readonly historyStreamBuffer?: number;
  /** Live caches an org may have (MAX_CACHES_PER_ORG); creating one more is refused. */
  readonly maxCachesPerOrg: number;
  readonly edge: EdgeLimits;
  /** The Redis protocol listener; absent: off. */
  readonly resp?: RespSettings;
}

/** Every namespace, in the order loadConfig reads them (docs and tests walk their declarations). */
export const NAMESPACES = [serverSettings, authSettings, journalSettings, logsSettings, metricsSettings, tasksSettings] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const issues: string[] = [];
  const parsed = schema.safeParse(env);
  if (!parsed.success) issues.push(...parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'env'}: ${i.message}`));
  const server = serverSettings.read(env, issues);
  const auth = authSettings.read(env, issues);
  const journal = journalSettings.read(env, issues);
  const logs = logsSettings.read(env, issues);
  const metrics = metricsSettings.read(env, issues);
  const tasks = tasksSettings.read(env, issues);
  throwIssues(issues);
  if (!parsed.success) throw new ConfigError('invalid configuration');
  // MAX_VALUE_BYTES' default depends on the journal: with NATS an event is one message (1 MiB by default).
  const e = { ...parsed.data, MAX_VALUE_BYTES: parsed.data.MAX_VALUE_BYTES || (journal.journal === 'nats' ? 960 * 1024 : 4 * MiB) };
  return {
    ...authConfig(auth),
    ...serverConfig(server),
    ...journalConfig(journal),
    ...logsConfig(logs),
    ...metricsConfig(metrics),
    ...tasksConfig(tasks),
    maxValueBytes: e.MAX_VALUE_BYTES,
    orgQuotaEnabled: e.ENABLE_ORG_SERVICE_LEVEL_SAAS,
    serviceLevelMaxBytes: { free: e.FREE_SERVICE_LEVEL_MAX_BYTES },
    entityIdleMs: e.ENTITY_IDLE_SECONDS * 1000,
    maxEntitiesPerOrg: e.MAX_ENTITIES_PER_ORG,
    historyStreamBuffer: e.HISTORY_STREAM_BUFFER,
    maxCachesPerOrg: e.MAX_CACHES_PER_ORG,
    edge: loadEdgeLimits(e),
    resp: loadResp(e, server.port),
  };
}

function loadResp(e: z.infer<typeof schema> & { MAX_VALUE_BYTES: number }, httpPort: number): RespSettings {
  return {
    // PORT=0 (tests, several instances side by side) makes the listener take any free port too.
    port: e.RESP_PORT ?? (httpPort === 0 ? 0 : 6380),
    portExplicit: e.RESP_PORT !== undefined,
    // Room for MSET of a few full-size values; never less than 64 MiB.
    maxQueryBytes: e.RESP_MAX_QUERY_BYTES || Math.max(64 * MiB, 4 * e.MAX_VALUE_BYTES + MiB),
    maxMultibulk: e.RESP_MAX_MULTIBULK,
    maxOutputBytes: e.RESP_MAX_OUTPUT_BYTES,
    idleTimeoutMs: e.RESP_IDLE_TIMEOUT_SECONDS * 1000,
    authTimeoutMs: e.RESP_AUTH_TIMEOUT_SECONDS * 1000,
    maxConnections: e.RESP_MAX_CONNECTIONS || e.MAX_CONNECTIONS,
  };
}

function loadEdgeLimits(e: z.infer<typeof schema> & { MAX_VALUE_BYTES: number }): EdgeLimits {
  if (e.HEADERS_TIMEOUT_SECONDS > e.REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError('invalid configuration: HEADERS_TIMEOUT_SECONDS must be at most REQUEST_TIMEOUT_SECONDS');
  }
  if (e.MAX_CONNECTIONS_PER_ADDRESS > e.MAX_CONNECTIONS) {
    throw new ConfigError('invalid configuration: MAX_CONNECTIONS_PER_ADDRESS must be at most MAX_CONNECTIONS');
  }
  // Base64 in JSON inflates values by 4/3; leave room for a full-size value plus the envelope.
  const maxValueJsonBytes = Math.ceil((e.MAX_VALUE_BYTES * 4) / 3) + MiB;
  return {
    maxControlBodyBytes: e.MAX_CONTROL_BODY_BYTES,
    maxValueJsonBytes,
    maxBatchBodyBytes: e.MAX_BATCH_BODY_BYTES || maxValueJsonBytes,
    maxBatchElements: e.MAX_BATCH_ELEMENTS,
    maxPipelineCommands: e.UPSTASH_MAX_PIPELINE_COMMANDS,
    maxPipelineBytes: e.UPSTASH_MAX_PIPELINE_BYTES || e.MAX_BATCH_BODY_BYTES || maxValueJsonBytes,
    maxEventsPerCommand: e.MAX_EVENTS_PER_COMMAND,
    maxJsonDepth: e.MAX_JSON_DEPTH,
    maxResponseBytes: e.MAX_RESPONSE_BYTES,
    eventsPageMaxBytes: e.EVENTS_PAGE_MAX_BYTES,
    sseQueueBytes: e.SSE_QUEUE_BYTES,
    sseMaxClientsPerOrg: e.SSE_MAX_CLIENTS_PER_ORG,
    sseMaxClientsPerToken: e.SSE_MAX_CLIENTS_PER_TOKEN,
    pointInTimeMaxEvents: e.POINT_IN_TIME_MAX_EVENTS,
    pointInTimeMaxBytes: e.POINT_IN_TIME_MAX_BYTES,
    pointInTimeMaxPerOrg: e.POINT_IN_TIME_MAX_PER_ORG,
    connectionIdleTimeoutMs: e.CONNECTION_IDLE_TIMEOUT_SECONDS * 1000,
    requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
    headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1000,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
    maxAnonymousConnections: Math.min(e.MAX_CONNECTIONS, e.MAX_ANONYMOUS_CONNECTIONS || Math.max(1, Math.floor(e.MAX_CONNECTIONS / 4))),
    maxAnonymousConnectionsPerAddress: Math.min(e.MAX_CONNECTIONS_PER_ADDRESS, e.MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS),
  };
}

