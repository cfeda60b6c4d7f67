import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';

/** How often a closing server closes the keep-alive connections that have become idle. */
const REAP_EVERY_MS = 50;

/**
 * Lets a clean shutdown end under load. `server.close()` closes the connections that are idle
 * at that instant; one busy then (a write in flight) finishes its response and stays open as
 * an idle keep-alive connection until the client or the keep-alive timeout (72 s in Fastify)
 * ends it, so SIGTERM under load hung for up to that long (found by the SIGTERM-under-load
 * test). While closing, each such connection is closed as soon as it has answered.
 */
@Injectable()
export class ConnectionReaper implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance();
    fastify.addHook('preClose', (done: () => void) => {
      const server = fastify.server as Server;
      if (typeof server.closeIdleConnections === 'function') {
        const timer = setInterval(() => server.closeIdleConnections(), REAP_EVERY_MS);
        server.once('close', () => clearInterval(timer));
      }
      done();
    });
  }
}
