import { Server as HttpServer, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { Socket } from 'node:net';

/**
 * A socket's inactivity timeout (the keep-alive timeout between requests, or the connection's
 * idle timeout) closes it only if nothing arrived on it by the end of the event loop's turn.
 *
 * Node destroys a socket in its 'timeout' event, which runs in the timers phase. After the
 * event loop was held (a command that appends 100,000 events, a busy machine), the timers run
 * before the poll phase reads what clients sent meanwhile: an idle keep-alive connection whose
 * next request is already waiting in the kernel was destroyed with that request unread, and the
 * client got ECONNRESET for a request the service never saw (a 150k-key restore test did,
 * polling its task on a loaded 2-core machine). Here the decision waits for the check phase,
 * after the poll: a socket that read bytes meanwhile is in use and stays (Node re-arms its
 * timer on that activity, and a new request resets it); any other is destroyed as Node would.
 * A request or response with a 'timeout' listener of its own keeps deciding, as in Node.
 *
 * A socket whose request is complete and whose answer has not begun is not idle: the service
 * is working on it (a batch over 10,000 new caches on a loaded machine took longer than the
 * idle timeout, and the client got "other side closed" instead of its answer). The timer is
 * re-armed when the answer is written. An answer that began and stalled (a client that stopped
 * reading) is idle as before.
 */
export function closeIdleSocketsAfterPendingReads(server: HttpServer | HttpsServer): void {
  server.on('timeout', (socket: Socket) => {
    const state = socket as Socket & { parser?: { incoming?: { complete: boolean; listenerCount(event: string): number } }; _httpMessage?: ServerResponse };
    const request = state.parser?.incoming;
    if (request && !request.complete && request.listenerCount('timeout') > 0) return;
    if (state._httpMessage && state._httpMessage.listenerCount('timeout') > 0) return;
    if (request?.complete && state._httpMessage && !state._httpMessage.headersSent) return;
    const bytesRead = socket.bytesRead;
    setImmediate(() => {
      if (!socket.destroyed && socket.bytesRead === bytesRead) socket.destroy();
    });
  });
}
