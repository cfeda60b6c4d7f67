import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { APP_CONFIG } from '../../config/settings';
import type { ServerConfig } from '../../config/server';
import type { LimitsConfig } from '../../config/limits';
import type { RedisConfig } from '../../config/redis';
import { ConnectionBudget } from '../../core/connection-budget';
import { AnswerBudget } from '../../core/answer-budget';
import { RedisEngine } from '../engine/engine';
import { ConnectionLimits, RespConnection } from './resp-connection';
import { RespCounters } from './resp-counters';
import { RespMetrics } from './resp-metrics';
import { Metrics } from '../../ops/metrics';

/**
 * The Redis protocol listener: RESP2/RESP3 over TCP (TLS when the HTTP side has TLS) on
 * RESP_PORT, bound to HOST. It starts when the HTTP server starts listening (so an app that
 * is only built, as some tests do, binds nothing) and stops before the entities do.
 */
@Injectable()
export class RespServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RespServer');
  private readonly requestLog = new Logger('RESP');
  private server: Server | undefined;
  private readonly connections = new Set<RespConnection>();
  /** Each connection's place in the budget every listener shares (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS). */
  private readonly places = new Map<RespConnection, () => void>();
  private boundPort: number | undefined;
  private resolveReady!: (port: number | undefined) => void;
  /** The port the listener took, once it listens (undefined: off). */
  readonly ready = new Promise<number | undefined>((resolve) => (this.resolveReady = resolve));

  constructor(
    @Inject(APP_CONFIG) private readonly config: ServerConfig & LimitsConfig & RedisConfig,
    private readonly engine: RedisEngine,
    private readonly adapterHost: HttpAdapterHost,
    readonly counters: RespCounters,
    metrics: Metrics,
    private readonly budget: ConnectionBudget,
    private readonly answers: AnswerBudget,
  ) {
    this.metrics = new RespMetrics(metrics.registry, counters);
  }

  private readonly metrics: RespMetrics;

  /** The port it listens on (undefined before it listens, or when off). */
  get port(): number | undefined {
    return this.boundPort;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  onApplicationBootstrap(): void {
    const settings = this.config.resp;
    if (settings === undefined || settings.port === 'off') return this.resolveReady(undefined);
    const http = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (http === undefined || http.listening) this.listen();
    else http.once('listening', () => this.listen());
  }

  private listen(): void {
    const settings = this.config.resp!;
    const tls = this.config.tls;
    const server = tls
      ? createTlsServer({ cert: tls.cert, key: tls.key }, (socket) => this.accept(socket))
      : createServer((socket) => this.accept(socket));
    this.server = server;
    server.on('error', (caught: NodeJS.ErrnoException) => {
      if (this.boundPort === undefined && caught.code === 'EADDRINUSE' && !settings.portExplicit) {
        this.logger.warn(`port ${String(settings.port)} is in use: the Redis protocol is off (set RESP_PORT to choose a port, or RESP_PORT=off)`);
        this.resolveReady(undefined);
        return;
      }
      this.logger.error(`the Redis protocol listener failed: ${caught.message}`);
      if (this.boundPort === undefined) {
        this.resolveReady(undefined);
        // An explicitly configured port that cannot be had stops the start, as PORT does.
        process.nextTick(() => {
          throw caught;
        });
      }
    });
    server.listen(settings.port as number, this.config.host, () => {
      this.boundPort = (server.address() as AddressInfo).port;
      this.counters.port = this.boundPort;
      this.logger.log(`Redis protocol on ${tls ? 'rediss' : 'redis'}://${this.config.host}:${this.boundPort}`);
      this.resolveReady(this.boundPort);
    });
  }

  private accept(socket: Socket): void {
    const settings = this.config.resp!;
    const address = socket.remoteAddress ?? 'unknown';
    socket.on('error', () => undefined);
    // Anonymous connections (not yet authenticated) may hold a quarter of the slots: beyond it the
    // oldest of them makes room, so they can never keep authenticated clients out. The same when
    // the budget every listener shares (MAX_CONNECTIONS) is spent.
    const anonymous = [...this.connections].filter((c) => !c.authenticated);
    const full = this.connections.size >= settings.maxConnections || this.budget.over(address) === 'MAX_CONNECTIONS';
    if (anonymous.length >= Math.max(1, Math.floor(settings.maxConnections / 4)) || (full && anonymous.length > 0)) {
      anonymous[0].destroy();
      this.connections.delete(anonymous[0]);
      this.places.get(anonymous[0])?.(); // its place is free now, not when its close event comes
    }
    if (this.connections.size >= settings.maxConnections || this.budget.over(address) !== undefined) {
      this.counters.rejectedConnections++;
      // Redis's words; then the socket is closed whether or not the client reads them.
      socket.end('-ERR max number of clients reached\r\n');
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const givePlaceBack = this.budget.take(address);
    this.counters.totalConnections++;
    const limits: ConnectionLimits = {
      maxMultibulk: settings.maxMultibulk,
      maxBulk: this.config.maxValueBytes,
      maxInline: 64 * 1024,
      unauthenticatedMultibulk: 10,
      unauthenticatedBulk: 16 * 1024,
      maxQueryBytes: settings.maxQueryBytes,
      maxOutputBytes: settings.maxOutputBytes,
      answerBytes: this.answers.limits.connectionBytes,
      idleTimeoutMs: settings.idleTimeoutMs,
      authTimeoutMs: settings.authTimeoutMs,
    };
    const connection = new RespConnection(socket, this.engine, limits, this.counters, this.answers, this.engine.gateway.now(), (session, command, seconds, failure) => {
      this.metrics.observe(command, seconds, failure !== undefined);
      // The request log: one line per command, as per HTTP request. Never an argument: keys,
      // values and tokens stay out; the command, the client, the database and the outcome.
      this.requestLog.log(
        { msg: 'command completed', client: session.id, cmd: command, db: session.db, status: failure ?? 'OK', responseTime: Math.round(seconds * 100_000) / 100 },
        'RESP',
      );
    });
    this.connections.add(connection);
    this.places.set(connection, givePlaceBack);
    this.counters.openConnections = this.connections.size;
    socket.once('close', () => {
      this.connections.delete(connection);
      this.counters.openConnections = this.connections.size;
      this.places.delete(connection);
      givePlaceBack();
    });
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of [...this.connections]) connection.end();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1500).unref())]);
  }
}
