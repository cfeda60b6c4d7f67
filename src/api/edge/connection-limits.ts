import { Server as HttpServer } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { Socket } from 'node:net';
import { EdgeLimits } from '../../config/config';

/**
 * Caps open connections, globally (MAX_CONNECTIONS) and per client address
 * (MAX_CONNECTIONS_PER_ADDRESS), so no client can hold every file descriptor: a connection
 * beyond a cap gets a one-line refusal (plain HTTP) or is closed at once (TLS, where plain
 * bytes would not be understood) before any request on it is read. Addresses are the peer's
 * as the socket sees it; behind a proxy every client shares the proxy's.
 */
export function limitConnections(server: HttpServer | HttpsServer, limits: EdgeLimits): void {
  const perAddress = new Map<string, number>();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = perAddress.get(address) ?? 0;
    if (open >= limits.maxConnections) return refuse(socket, server, 503, 'TOO_MANY_CONNECTIONS', `the service has ${limits.maxConnections} connections open (MAX_CONNECTIONS)`);
    if (mine >= limits.maxConnectionsPerAddress) {
      return refuse(socket, server, 429, 'TOO_MANY_CONNECTIONS', `this address has ${limits.maxConnectionsPerAddress} connections open (MAX_CONNECTIONS_PER_ADDRESS)`);
    }
    open++;
    perAddress.set(address, mine + 1);
    socket.once('close', () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
}

const REASONS: Record<number, string> = { 429: 'Too Many Requests', 503: 'Service Unavailable' };

function refuse(socket: Socket, server: HttpServer | HttpsServer, status: 429 | 503, code: string, message: string): void {
  if (server instanceof HttpsServer) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ code, message });
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // A client that never reads must not keep the refused socket either.
  setTimeout(() => socket.destroy(), 1000).unref();
}
