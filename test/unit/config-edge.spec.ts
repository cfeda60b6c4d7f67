import { ConfigError, loadConfig } from '../../src/config/config';

const MiB = 1024 * 1024;

describe('configuration of the HTTP edge (docs/security.md)', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({}).edge).toEqual({
      maxControlBodyBytes: 64 * 1024,
      maxValueJsonBytes: Math.ceil((4 * MiB * 4) / 3) + MiB,
      maxBatchBodyBytes: Math.ceil((4 * MiB * 4) / 3) + MiB,
      maxBatchElements: 10_000,
      maxPipelineCommands: 1000,
      maxPipelineBytes: Math.ceil((4 * MiB * 4) / 3) + MiB,
      maxEventsPerCommand: 50_000,
      maxJsonDepth: 16,
      maxResponseBytes: 32 * MiB,
      eventsPageMaxBytes: 8 * MiB,
      sseQueueBytes: 8 * MiB,
      sseMaxClientsPerOrg: 32,
      sseMaxClientsPerToken: 8,
      pointInTimeMaxEvents: 20_000,
      pointInTimeMaxBytes: 64 * MiB,
      pointInTimeMaxPerOrg: 2,
      connectionIdleTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 10_000,
      maxConnections: 800,
      maxConnectionsPerAddress: 256,
      maxAnonymousConnections: 200,
      maxAnonymousConnectionsPerAddress: 16,
    });
  });

  it('derives the anonymous connection budget from MAX_CONNECTIONS unless set, within the caps it shares', () => {
    expect(loadConfig({ MAX_CONNECTIONS: '10', MAX_CONNECTIONS_PER_ADDRESS: '4' }).edge).toMatchObject({ maxAnonymousConnections: 2, maxAnonymousConnectionsPerAddress: 4 });
    expect(loadConfig({ MAX_CONNECTIONS: '3', MAX_CONNECTIONS_PER_ADDRESS: '3' }).edge.maxAnonymousConnections).toBe(1);
    expect(loadConfig({ MAX_ANONYMOUS_CONNECTIONS: '50', MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS: '5' }).edge).toMatchObject({ maxAnonymousConnections: 50, maxAnonymousConnectionsPerAddress: 5 });
  });

  it('derives the value and batch body limits from MAX_VALUE_BYTES unless MAX_BATCH_BODY_BYTES is set', () => {
    expect(loadConfig({ MAX_VALUE_BYTES: '3000' }).edge).toMatchObject({ maxValueJsonBytes: 4000 + MiB, maxBatchBodyBytes: 4000 + MiB });
    expect(loadConfig({ MAX_BATCH_BODY_BYTES: '12345' }).edge.maxBatchBodyBytes).toBe(12345);
  });

  it.each([
    [{ MAX_CONTROL_BODY_BYTES: '0' }, /MAX_CONTROL_BODY_BYTES must be a whole number >= 1/],
    [{ MAX_BATCH_ELEMENTS: 'lots' }, /MAX_BATCH_ELEMENTS must be a whole number >= 1/],
    [{ MAX_EVENTS_PER_COMMAND: '0' }, /MAX_EVENTS_PER_COMMAND must be a whole number >= 1/],
    [{ MAX_JSON_DEPTH: '1' }, /MAX_JSON_DEPTH must be a whole number >= 2/],
    [{ MAX_RESPONSE_BYTES: '10' }, /MAX_RESPONSE_BYTES must be a whole number >= 1024/],
    [{ EVENTS_PAGE_MAX_BYTES: '-1' }, /EVENTS_PAGE_MAX_BYTES/],
    [{ SSE_QUEUE_BYTES: '0' }, /SSE_QUEUE_BYTES/],
    [{ SSE_MAX_CLIENTS_PER_ORG: '0' }, /SSE_MAX_CLIENTS_PER_ORG/],
    [{ SSE_MAX_CLIENTS_PER_TOKEN: '0' }, /SSE_MAX_CLIENTS_PER_TOKEN/],
    [{ POINT_IN_TIME_MAX_EVENTS: '1.5' }, /POINT_IN_TIME_MAX_EVENTS/],
    [{ CONNECTION_IDLE_TIMEOUT_SECONDS: '0' }, /CONNECTION_IDLE_TIMEOUT_SECONDS/],
    [{ REQUEST_TIMEOUT_SECONDS: '5', HEADERS_TIMEOUT_SECONDS: '6' }, /HEADERS_TIMEOUT_SECONDS must be at most REQUEST_TIMEOUT_SECONDS/],
    [{ KEEP_ALIVE_TIMEOUT_SECONDS: 'x' }, /KEEP_ALIVE_TIMEOUT_SECONDS/],
    [{ MAX_CONNECTIONS: '10', MAX_CONNECTIONS_PER_ADDRESS: '11' }, /MAX_CONNECTIONS_PER_ADDRESS must be at most MAX_CONNECTIONS/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
