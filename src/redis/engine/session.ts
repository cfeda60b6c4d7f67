import type { Principal } from '../../auth/principal';
import type { ApiFamily } from '../../core/request-context';
import type { RedisReply } from './reply';

/** A command queued by MULTI: its name and arguments, checked (arity, syntax) when queued. */
export interface QueuedCommand {
  readonly name: string;
  readonly args: readonly Buffer[];
}

/** A key as WATCH saw it: in which cache, and the version of its live entry (null: absent). */
export interface Watched {
  readonly cache: string;
  readonly key: string;
  readonly version: number | null;
}

/** One CACHELOG.SUBSCRIBE: the next sequence number to send, and live events held while the past is read. */
export interface EventStream {
  next: number;
  /** Live events that arrived while catching up (null once live). */
  held: Array<{ readonly seq: number; readonly event: import('../../domain').CacheEvent }> | null;
}

let nextId = 1;

/**
 * One client's state, whatever the transport: a RESP connection holds one for its lifetime;
 * an HTTP request (the Upstash family) makes a short-lived one. Nothing here is I/O.
 */
export class Session {
  readonly id = nextId++;
  readonly createdAt: number;
  principal: Principal | null = null;
  /** The token the principal was verified from; checked again on every command (it may expire). */
  token: string | null = null;
  /** The family its commands go to the core as: `redis` (RESP) or `upstash` (the HTTP family). */
  family: ApiFamily = 'redis';
  /** Commands the transport already counted against the rate limit (an HTTP request, at the edge): not counted again. */
  prepaid = 0;
  /** The highest sequence number a write of this session was journaled at (the HTTP family's read-your-writes token). */
  lastWriteSeq = 0;
  /** The selected database: a cache name of the principal's org. */
  db = '0';
  /** 2 or 3 (HELLO). */
  resp: 2 | 3 = 2;
  name = '';
  libName = '';
  libVersion = '';
  /** MULTI's queue; null outside a transaction. */
  multi: QueuedCommand[] | null = null;
  /** A queued command was refused (arity, syntax): EXEC answers EXECABORT. */
  multiDirty = false;
  watched: Watched[] = [];
  /** Writes sent and not yet durable: a read on this session waits for them (read-your-writes). */
  readonly pendingWrites = new Set<Promise<unknown>>();
  lastCommand = 'NULL';
  lastActive: number;
  commands = 0;
  /** Set by the transport: closes the connection after the current reply (QUIT). */
  closing = false;
  /** Pub/sub: channels and patterns this session is subscribed to (keyspace notifications). */
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();

  /** CACHELOG.SUBSCRIBE: a cache's events from a sequence number, then live, by cache name. */
  readonly streams = new Map<string, EventStream>();

  get subscriptions(): number {
    return this.channels.size + this.patterns.size + this.streams.size;
  }

  constructor(
    now: number,
    /** The peer, for CLIENT LIST (`ip:port`). */
    readonly address: string = '',
    /** The local side (`laddr`). */
    readonly localAddress: string = '',
    /** Replies the transport may push unasked (keyspace notifications); absent: none. */
    readonly push?: (reply: RedisReply) => void,
  ) {
    this.createdAt = now;
    this.lastActive = now;
  }

  get authenticated(): boolean {
    return this.principal !== null;
  }

  /** Forgets the transaction and the watched keys (EXEC, DISCARD, RESET). */
  endTransaction(): void {
    this.multi = null;
    this.multiDirty = false;
    this.watched = [];
  }
}
