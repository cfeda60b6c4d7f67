import { z } from 'zod';
import { MiB, Values, namespace, seconds, setting, wholeNumber } from './settings';

/** The Redis protocol listener (RESP_*, docs/redis.md) and the Upstash-style REST API's pipelines. */
export const redisSettings = namespace('redis', {
  resp: {
    port: setting(
      'RESP_PORT',
      (env) =>
        z
          .string()
          .optional()
          .transform((raw, ctx) => {
            const text = raw?.trim() ?? '';
            if (text === '') return undefined;
            if (text === 'off') return 'off' as const;
            const port = Number(text);
            if (!Number.isInteger(port) || port < 0 || port > 65535) {
              ctx.addIssue({ code: 'custom', message: `${env} must be a port (0-65535, 0: any free port) or "off", got "${raw}"` });
              return z.NEVER;
            }
            return port;
          }),
      "the RESP listener's port on HOST; off: no listener",
      { derivedDefault: '6380, or 0 (any free port) when PORT is 0' },
    ),
    /** Bytes buffered for one command not yet complete; beyond it the connection is closed. */
    maxQueryBytes: setting('RESP_MAX_QUERY_BYTES', wholeNumber(0, 0), 'bytes of one command not yet complete (the query buffer)', {
      derivedDefault: '64 MiB, or 4 × MAX_VALUE_BYTES + 1 MiB if more',
    }),
    maxMultibulk: setting('RESP_MAX_MULTIBULK', wholeNumber(1024 * 1024, 1), 'arguments of one command'),
    /** Reply bytes waiting for a client that does not read; beyond it the client is disconnected. */
    maxOutputBytes: setting('RESP_MAX_OUTPUT_BYTES', wholeNumber(64 * MiB, 64 * 1024), 'reply bytes waiting for a client that does not read'),
    idleTimeoutMs: setting('RESP_IDLE_TIMEOUT_SECONDS', seconds(300, 0), 'a connection with no traffic this long is closed (0: never)'),
    authTimeoutMs: setting('RESP_AUTH_TIMEOUT_SECONDS', seconds(10, 1), 'a connection that has not authenticated this long after it opened is closed'),
    maxConnections: setting('RESP_MAX_CONNECTIONS', wholeNumber(0, 0), 'open RESP connections, within the MAX_CONNECTIONS every listener shares', {
      derivedDefault: 'MAX_CONNECTIONS',
    }),
  },
  edge: {
    /** Commands of one Upstash-style `/pipeline` or `/multi-exec` request. */
    maxPipelineCommands: setting('UPSTASH_MAX_PIPELINE_COMMANDS', wholeNumber(1000, 1), 'commands of one Upstash-style /pipeline or /multi-exec request'),
    maxPipelineBytes: setting('UPSTASH_MAX_PIPELINE_BYTES', wholeNumber(0, 0), 'JSON body of one Upstash-style /pipeline or /multi-exec request', {
      derivedDefault: 'that of a batch (MAX_BATCH_BODY_BYTES)',
    }),
  },
});

export function redisConfig(
  values: Values<typeof redisSettings.declaration>,
  other: { readonly httpPort: number; readonly maxValueBytes: number; readonly maxConnections: number; readonly maxBatchBodyBytes: number },
) {
  const { resp, edge } = values;
  return {
    /** The Redis protocol listener. */
    resp: {
      ...resp,
      /** The port; `off`: no listener. Default 6380, or 0 (any free port) when PORT is 0 (tests, several instances side by side). */
      port: resp.port ?? (other.httpPort === 0 ? 0 : 6380),
      /** RESP_PORT was set: a port in use stops the start. Unset (the default port): a warning, and no listener. */
      portExplicit: resp.port !== undefined,
      // Room for MSET of a few full-size values; never less than 64 MiB.
      maxQueryBytes: resp.maxQueryBytes || Math.max(64 * MiB, 4 * other.maxValueBytes + MiB),
      /** Open RESP connections in all (they count against MAX_CONNECTIONS too); per address, MAX_CONNECTIONS_PER_ADDRESS applies. */
      maxConnections: resp.maxConnections || other.maxConnections,
    },
    edge: { ...edge, maxPipelineBytes: edge.maxPipelineBytes || other.maxBatchBodyBytes },
  };
}

export type RedisConfig = ReturnType<typeof redisConfig>;
export type RespSettings = RedisConfig['resp'];
