import { z } from 'zod';
import { ConfigError, throwIssues } from './settings';
import { ServerConfig, serverConfig, serverSettings } from './server';
import { AuthConfig, authConfig, authSettings } from './auth';
import { JournalConfig, journalConfig, journalSettings } from './journal';
import { LimitsConfig, limitsConfig, limitsSettings } from './limits';
import { HttpEdgeLimits, edgeConfig, edgeSettings } from './edge';
import { HistoryConfig, historyConfig, historySettings } from './history';
import { LogsConfig, logsConfig, logsSettings } from './logs';
import { MetricsConfig, metricsConfig, metricsSettings } from './metrics';
import { TasksConfig, tasksConfig, tasksSettings } from './tasks';
import { RedisConfig, redisConfig, redisSettings } from './redis';

/*
 * The configuration, composed. Each part declares its settings once, in its namespace file
 * (server, auth, journal, limits, edge, history, logs, metrics, tasks, redis: src/config/<name>.ts),
 * and reads its own slice type (ServerConfig, JournalConfig, …); AppConfig is all of them, with
 * the field names and nesting every part has always used (the `edge` block holds the HTTP edge's
 * limits and, beside them, the history, command and pipeline limits).
 */

export { APP_CONFIG, ConfigError } from './settings';
export { MIN_JWT_SECRET_BYTES } from './auth';
export { parseRetention } from './journal';
export type { ServerConfig } from './server';
export type { AuthConfig } from './auth';
export type { JournalConfig, NatsSettings, RetentionPolicy } from './journal';
export type { LimitsConfig } from './limits';
export type { EdgeConfig, HttpEdgeLimits } from './edge';
export type { HistoryConfig } from './history';
export type { LogsConfig } from './logs';
export type { MetricsConfig } from './metrics';
export type { TasksConfig } from './tasks';
export type { RedisConfig, RespSettings } from './redis';


/**
 * Settings added before they have a namespace. Each belongs in one (src/config/<name>.ts, with
 * `setting(…)`), where its type is inferred and its default is declared once; until it moves,
 * it is read here.
 */
const unplaced = z.object({
});

/** What one request, one client and one connection may cost: the HTTP edge's limits and those kept beside them. */
export type EdgeLimits = HttpEdgeLimits & HistoryConfig['edge'] & LimitsConfig['edge'] & RedisConfig['edge'];

export interface AppConfig
  extends ServerConfig,
    AuthConfig,
    JournalConfig,
    Omit<LimitsConfig, 'edge'>,
    Omit<HistoryConfig, 'edge'>,
    LogsConfig,
    MetricsConfig,
    TasksConfig,
    Omit<RedisConfig, 'edge'> {
  readonly edge: EdgeLimits;
}

/** Every namespace, in the order loadConfig reads them (docs and tests walk their declarations). */
export const NAMESPACES = [
  serverSettings,
  authSettings,
  journalSettings,
  limitsSettings,
  edgeSettings,
  historySettings,
  logsSettings,
  metricsSettings,
  tasksSettings,
  redisSettings,
] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const issues: string[] = [];
  const server = serverSettings.read(env, issues);
  const auth = authSettings.read(env, issues);
  const journal = journalSettings.read(env, issues);
  const limits = limitsSettings.read(env, issues);
  const edge = edgeSettings.read(env, issues);
  const history = historySettings.read(env, issues);
  const logs = logsSettings.read(env, issues);
  const metrics = metricsSettings.read(env, issues);
  const tasks = tasksSettings.read(env, issues);
  const redis = redisSettings.read(env, issues);
  const parsed = unplaced.safeParse(env);
  if (!parsed.success) issues.push(...parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'env'}: ${i.message}`));
  throwIssues(issues);
  if (!parsed.success) throw new ConfigError('invalid configuration');
  // The rules that span settings, in the order they have always been checked: tokens, rate limits, TLS, the edge.
  const authSlice = authConfig(auth);
  const serverSlice = serverConfig(server);
  const journalSlice = journalConfig(journal);
  const limitsSlice = limitsConfig(limits, journalSlice.journal);
  const edgeSlice = edgeConfig(edge, limitsSlice.maxValueBytes);
  const historySlice = historyConfig(history);
  const redisSlice = redisConfig(redis, {
    httpPort: serverSlice.port,
    maxValueBytes: limitsSlice.maxValueBytes,
    maxConnections: edgeSlice.edge.maxConnections,
    maxBatchBodyBytes: edgeSlice.edge.maxBatchBodyBytes,
  });
  return {
    ...authSlice,
    ...serverSlice,
    ...journalSlice,
    ...limitsSlice,
    ...historySlice,
    ...logsConfig(logs),
    ...metricsConfig(metrics),
    ...tasksConfig(tasks),
    ...redisSlice,
    edge: { ...edgeSlice.edge, ...historySlice.edge, ...limitsSlice.edge, ...redisSlice.edge },
  };
}
