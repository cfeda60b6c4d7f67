import { ConfigError, MiB, Values, namespace, seconds, setting, wholeNumber } from './settings';

/** What one request, one client and one connection may cost at the HTTP edge (docs/security.md). */
export const edgeSettings = namespace('edge', {
  edge: {
    maxControlBodyBytes: setting('MAX_CONTROL_BODY_BYTES', wholeNumber(64 * 1024, 1), 'JSON body of a control route (names, settings, tasks, increments)'),
    maxBatchBodyBytes: setting('MAX_BATCH_BODY_BYTES', wholeNumber(0, 0), 'JSON body of POST|DELETE /batch and POST /batch/get', { derivedDefault: 'that of a value route: base64 of MAX_VALUE_BYTES + 1 MiB' }),
    maxBatchElements: setting('MAX_BATCH_ELEMENTS', wholeNumber(10_000, 1), 'elements of one batch (400 beyond)'),
    maxJsonDepth: setting('MAX_JSON_DEPTH', wholeNumber(16, 2), 'arrays and objects nested deeper than this are refused before JSON.parse'),
    maxResponseBytes: setting('MAX_RESPONSE_BYTES', wholeNumber(32 * MiB, 1024), 'a response that carries many values or names, measured before it is built (413 beyond)'),
    connectionIdleTimeoutMs: setting('CONNECTION_IDLE_TIMEOUT_SECONDS', seconds(60, 1), 'a socket with no traffic is closed'),
    requestTimeoutMs: setting('REQUEST_TIMEOUT_SECONDS', seconds(60, 1), 'time to send a whole request (408 beyond)'),
    headersTimeoutMs: setting('HEADERS_TIMEOUT_SECONDS', seconds(10, 1), 'time to send the request headers (408 beyond; at most REQUEST_TIMEOUT_SECONDS)'),
    keepAliveTimeoutMs: setting('KEEP_ALIVE_TIMEOUT_SECONDS', seconds(10, 1), 'an idle keep-alive connection is closed'),
    maxConnections: setting('MAX_CONNECTIONS', wholeNumber(800, 1), 'open connections in all, every listener together (HTTP and RESP)'),
    maxConnectionsPerAddress: setting('MAX_CONNECTIONS_PER_ADDRESS', wholeNumber(256, 1), 'open connections per client address, every listener together'),
    /**
     * Connections that carry no authenticated request (yet): in all, and per address. Beyond
     * either, a new connection takes the place of the oldest idle one (see connection-limits.ts).
     */
    maxAnonymousConnections: setting('MAX_ANONYMOUS_CONNECTIONS', wholeNumber(0, 0), 'open HTTP connections that carried no authenticated request yet', {
      derivedDefault: 'a quarter of MAX_CONNECTIONS (at least 1), at most MAX_CONNECTIONS',
    }),
    maxAnonymousConnectionsPerAddress: setting('MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS', wholeNumber(16, 1), 'the same per client address (at most MAX_CONNECTIONS_PER_ADDRESS)'),
  },
});

/** The rules between the edge settings, and the body limits that follow MAX_VALUE_BYTES. */
export function edgeConfig(values: Values<typeof edgeSettings.declaration>, maxValueBytes: number) {
  const e = values.edge;
  if (e.headersTimeoutMs > e.requestTimeoutMs) {
    throw new ConfigError('invalid configuration: HEADERS_TIMEOUT_SECONDS must be at most REQUEST_TIMEOUT_SECONDS');
  }
  if (e.maxConnectionsPerAddress > e.maxConnections) {
    throw new ConfigError('invalid configuration: MAX_CONNECTIONS_PER_ADDRESS must be at most MAX_CONNECTIONS');
  }
  // Base64 in JSON inflates values by 4/3; leave room for a full-size value plus the envelope.
  const maxValueJsonBytes = Math.ceil((maxValueBytes * 4) / 3) + MiB;
  return {
    edge: {
      ...e,
      /** JSON body of a value route (`/set`, IronCache PUT): base64 of MAX_VALUE_BYTES plus an envelope. */
      maxValueJsonBytes,
      maxBatchBodyBytes: e.maxBatchBodyBytes || maxValueJsonBytes,
      maxAnonymousConnections: Math.min(e.maxConnections, e.maxAnonymousConnections || Math.max(1, Math.floor(e.maxConnections / 4))),
      maxAnonymousConnectionsPerAddress: Math.min(e.maxConnectionsPerAddress, e.maxAnonymousConnectionsPerAddress),
    },
  };
}

export type EdgeConfig = ReturnType<typeof edgeConfig>;
/** The HTTP edge's own limits (AppConfig['edge'] holds these and the history, command and pipeline limits beside them). */
export type HttpEdgeLimits = EdgeConfig['edge'];
