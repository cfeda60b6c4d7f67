import { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpEdgeLimits } from '../../config/edge';
import { ConnectionBudget } from '../../core/connection-budget';

/** One open connection, as the limits see it. */
interface Slot {
  readonly socket: Socket;
  readonly address: string;
  /** A request on it was authenticated (the edge attached a principal): it is no longer anonymous. */
  authenticated: boolean;
  /** Requests being answered on it. */
  inFlight: number;
  /** Its counts were given back (closed, or its place taken by a new connection). */
  released: boolean;
  /** When it was accepted (ms, monotonic). */
  readonly openedAt: number;
  /** When its last answer ended (ms, monotonic); undefined until it has answered one. */
  idleSince: number | undefined;
  /** The bytes read from it when its last answer ended: more since means a request is on its way. */
  bytesReadWhenIdle: number;
}

/**
 * A new connection's first request is on its way: a client that opens many at once (a pool
 * warming up, a burst of parallel requests) must not have them pushed out by its own next
 * ones. Only connections anonymous for longer than this count against their address's share.
 */
const SETTLING_MS = 1000;

/**
 * A keep-alive connection between two requests is idle only briefly: its client may be writing
 * the next request as another connection arrives, and closing it then cuts that request
 * ("other side closed"). A connection that has answered a request is taken the place of only
 * once it has been quiet for longer than this (one that never answered one, as half-sent
 * headers, at once).
 */
const QUIET_MS = 250;

/**
 * Connection slots. Every connection counts against MAX_CONNECTIONS and its address's
 * MAX_CONNECTIONS_PER_ADDRESS; one that has carried no authenticated request yet (a new one,
 * one holding half-sent headers, one only used for public routes such as health probes) is
 * anonymous, and anonymous connections have their own budget: MAX_ANONYMOUS_CONNECTIONS in all
 * and MAX_ANONYMOUS_CONNECTIONS_PER_ADDRESS. A new connection always starts anonymous, so rather
 * than being refused when a budget is spent, it takes the place of the oldest anonymous
 * connection with no request being answered (of its own address when its address is over its
 * share, else of the address holding the most): anonymous clients can hold at most their budget,
 * and never the slots that authenticated clients and health probes need. A connection beyond a
 * cap with nothing to take the place of gets a one-line refusal (plain HTTP) or is closed at
 * once (TLS) before any request on it is read. Half-sent headers (and a connection that sends
 * nothing) are also cut after HEADERS_TIMEOUT_SECONDS by the HTTP server itself.
 * Addresses are the peer's as the socket sees it; behind a proxy every client shares the proxy's.
 */
export class ConnectionSlots {
  /** Anonymous slots per address, oldest first. */
  private readonly anonymous = new Map<string, Set<Slot>>();
  private anonymousCount = 0;
  private readonly slots = new WeakMap<Socket, Slot>();
  /** Each slot's place in the shared budget, given back when it is released. */
  private readonly giveBack = new WeakMap<Slot, () => void>();

  constructor(
    private readonly server: HttpServer | HttpsServer,
    private readonly limits: HttpEdgeLimits,
    /** MAX_CONNECTIONS and MAX_CONNECTIONS_PER_ADDRESS, shared with every other listener (the RESP one). */
    private readonly budget: ConnectionBudget = new ConnectionBudget(limits),
  ) {}

  /** Starts counting the server's connections. */
  watch(): this {
    this.server.on('connection', (socket: Socket) => this.admit(socket));
    this.server.on('request', (request: IncomingMessage, response: ServerResponse) => this.requestArrived(request, response));
    return this;
  }

  /** Fastify `onRequest` hook, after the edge: a request with a principal makes its connection authenticated. */
  readonly onRequest = (request: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    if (request.principal !== null) this.authenticated(request.raw.socket);
    done();
  };

  /** Anonymous connections open now (for tests and metrics). */
  get anonymousOpen(): number {
    return this.anonymousCount;
  }

  authenticated(socket: Socket): void {
    const slot = this.slotOf(socket);
    if (slot === undefined || slot.authenticated) return;
    slot.authenticated = true;
    this.forgetAnonymous(slot);
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const { maxConnections, maxConnectionsPerAddress, maxAnonymousConnections, maxAnonymousConnectionsPerAddress } = this.limits;
    if (this.budget.openFrom(address) >= maxConnectionsPerAddress && !this.evictFrom(address)) {
      return this.refuse(socket, 429, `this address has ${maxConnectionsPerAddress} connections open (MAX_CONNECTIONS_PER_ADDRESS)`);
    }
    // Over its share, an address pushes out its own settled idle anonymous connection; while all
    // of them are new (a burst), it may go beyond its share within the service-wide budget below.
    if ((this.anonymous.get(address)?.size ?? 0) >= maxAnonymousConnectionsPerAddress) this.evictFrom(address, SETTLING_MS);
    if (this.anonymousCount >= maxAnonymousConnections && !this.evictFrom(this.mostAnonymous())) {
      return this.refuse(socket, 503, `the service has ${maxAnonymousConnections} connections open without an authenticated request (MAX_ANONYMOUS_CONNECTIONS)`);
    }
    if (this.budget.open >= maxConnections && !this.evictFrom(this.mostAnonymous())) {
      return this.refuse(socket, 503, `the service has ${maxConnections} connections open (MAX_CONNECTIONS)`);
    }
    const openedAt = performance.now();
    const slot: Slot = { socket, address, authenticated: false, inFlight: 0, released: false, openedAt, idleSince: undefined, bytesReadWhenIdle: 0 };
    this.slots.set(socket, slot);
    this.giveBack.set(slot, this.budget.take(address));
    this.addAnonymous(slot);
    socket.once('close', () => this.release(slot));
  }

  private release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    this.giveBack.get(slot)?.();
    this.forgetAnonymous(slot);
  }

  /** The slot of a request's socket (over TLS, the TLS socket's underlying TCP socket is the one counted). */
  private slotOf(socket: Socket): Slot | undefined {
    return this.slots.get(socket) ?? this.slots.get((socket as Socket & { _parent?: Socket })._parent as Socket);
  }

  private requestArrived(request: IncomingMessage, response: ServerResponse): void {
    const slot = this.slotOf(request.socket);
    if (slot === undefined) return;
    slot.inFlight++;
    response.once('close', () => {
      if (--slot.inFlight > 0) return;
      slot.idleSince = performance.now();
      slot.bytesReadWhenIdle = slot.socket.bytesRead;
    });
  }

  /**
   * Closes the oldest idle anonymous connection of `address` open for at least `minAgeMs` (idle:
   * no request being answered; after an answer, none arriving and none for QUIET_MS); false
   * when it has none.
   */
  private evictFrom(address: string | undefined, minAgeMs = 0): boolean {
    if (address === undefined) return false;
    const now = performance.now();
    for (const slot of this.anonymous.get(address) ?? []) {
      if (slot.inFlight > 0 || now - slot.openedAt < minAgeMs || this.betweenRequests(slot, now)) continue;
      this.release(slot); // free now, not when the socket's close event comes
      slot.socket.on('error', () => undefined);
      slot.socket.destroy();
      return true;
    }
    return false;
  }

  /** A kept-alive connection whose client may be sending its next request now. */
  private betweenRequests(slot: Slot, now: number): boolean {
    if (slot.idleSince === undefined) return false;
    const quietFor = now - slot.idleSince;
    // Bytes since its last answer: a request on its way, unless they have trickled for a while (half-sent headers).
    return quietFor < QUIET_MS || (slot.socket.bytesRead !== slot.bytesReadWhenIdle && quietFor < SETTLING_MS);
  }

  /** The address holding the most anonymous connections. */
  private mostAnonymous(): string | undefined {
    let most: string | undefined;
    let count = 0;
    for (const [address, slots] of this.anonymous) {
      if (slots.size > count) [most, count] = [address, slots.size];
    }
    return most;
  }

  private addAnonymous(slot: Slot): void {
    let slots = this.anonymous.get(slot.address);
    if (slots === undefined) this.anonymous.set(slot.address, (slots = new Set()));
    slots.add(slot);
    this.anonymousCount++;
  }

  private forgetAnonymous(slot: Slot): void {
    const slots = this.anonymous.get(slot.address);
    if (slots === undefined || !slots.delete(slot)) return;
    this.anonymousCount--;
    if (slots.size === 0) this.anonymous.delete(slot.address);
  }

  private refuse(socket: Socket, status: 429 | 503, message: string): void {
    if (this.server instanceof HttpsServer) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ code: 'TOO_MANY_CONNECTIONS', message });
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    // A client that never reads must not keep the refused socket either.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

const REASONS: Record<number, string> = { 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Counts the server's connections against the limits and the shared budget (see ConnectionSlots); register `onRequest` after the edge's. */
export function limitConnections(server: HttpServer | HttpsServer, limits: HttpEdgeLimits, budget?: ConnectionBudget): ConnectionSlots {
  return new ConnectionSlots(server, limits, budget).watch();
}
