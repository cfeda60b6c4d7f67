import { Logger } from '@nestjs/common';
import { Kvm, KV } from '@nats-io/kv';
import { Msg, NatsConnection, RequestError, Subscription } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { CacheCommand } from '../domain';
import { CommandRouter } from '../core/command-router';
import { Reply } from '../entities/cache-entity';
import { EntityRegistry } from '../entities/entity-registry';
import { InlineReadModels } from '../journal/inline-read-models';
import { JournalUnavailableError } from '../journal/journal';
import { EntityRef } from '../journal/keys';
import { Answer, AnswerStatus, decodeAnswer, decodeAnswers, decodeBatch, decodeForwarded, encodeAnswers, encodeBatch, encodeForwarded, encodeReply, encodeStatus } from './forwarded';
import { Membership } from './membership';

export interface ClusterOptions {
  readonly self: string;
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly stream: string;
  readonly replicas: number;
  /** NATS_TIMEOUT_MS: a request to NATS (the members bucket). */
  readonly timeoutMs: number;
  readonly memberTtlMs: number;
  readonly forwardTimeoutMs: number;
}

/** What a forwarded command came to, for the metrics. */
export type ForwardOutcome = 'answered' | 'rerouted' | 'indeterminate' | 'served';

/** Runs an admitted command through this node's registry (CacheGateway.askHere). */
export type RunHere = (ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined) => Promise<Reply>;

/** Owners tried for one command before it runs here (each failed try was never delivered). */
const MAX_ROUTES = 3;
/** A batch to one owner closes at this many bytes of commands (its reply, holding their events, must fit one message too)... */
const BATCH_BYTES = 256 * 1024;
/** ...or this many commands; a command over BATCH_ITEM_BYTES goes alone. */
const BATCH_COMMANDS = 256;
const BATCH_ITEM_BYTES = 64 * 1024;

/** A command waiting in a batch for its owner. */
interface Pending {
  readonly ref: EntityRef;
  readonly command: CacheCommand;
  readonly quotaLimit: number | undefined;
  readonly here: () => Promise<Reply>;
  readonly routes: number;
  readonly bytes: Uint8Array;
  readonly resolve: (reply: Promise<Reply> | Reply) => void;
}

/**
 * One owner per cache: this node's membership and the forwarding of commands between owners.
 *
 * - The owner of a cache is chosen by rendezvous hashing over the live members (membership.ts):
 *   no state per cache. A command for a cache another member owns is sent to it by NATS
 *   request-reply on `<stream>.own.<nodeId>` (the commands for one owner that arrive in the same
 *   turn of the event loop in one request); the owner runs each through its own gateway and
 *   answers their replies. Reads never come here: they are served from this node's own state.
 * - Never twice: a forward that got no answer in NATS_FORWARD_TIMEOUT_MS may have been applied
 *   (an INCR applied twice would be wrong, and so would a SET applied again after another
 *   client's write), so it answers 503 JOURNAL_UNAVAILABLE and is not repeated. A forward that
 *   surely did not run (no responder: the owner's process is gone; the owner answers it is
 *   leaving) is routed again, at most MAX_ROUTES times, then run here.
 * - Ownership is placement, not correctness: during a membership change two nodes may both
 *   write a cache, and the journal's expected-sequence fence with the entity's contention
 *   handling keeps its log single (append-contention.ts).
 * - Read-your-writes through the forwarding node: the reply carries the owner's envelopes (so
 *   the ETag seq is the owner's), and it is answered once this node has applied the write to
 *   its own copy of the cache (if loaded) and its read models, so the next read here sees it.
 */
export class ClusterNode extends CommandRouter {
  private readonly logger = new Logger('Cluster');
  private nc: NatsConnection | undefined;
  private membership: Membership | undefined;
  private serving: Subscription | undefined;
  private runHere: RunHere | undefined;
  private inFlight = 0;
  /** The open batch of commands per owner (sent at the end of this turn of the event loop). */
  private readonly batches = new Map<string, { items: Pending[]; bytes: number }>();
  private drained: Array<() => void> = [];
  private closing = false;
  private maxPayload = 1024 * 1024;
  /** Counted by outcome (metrics read them at scrape). */
  readonly counts: Record<ForwardOutcome, number> = { answered: 0, rerouted: 0, indeterminate: 0, served: 0 };

  constructor(
    readonly options: ClusterOptions,
    private readonly registry: EntityRegistry,
    private readonly readModels: InlineReadModels,
    private readonly readWaitMs: number,
  ) {
    super();
  }

  get self(): string {
    return this.options.self;
  }

  /** The live members as this node sees them. */
  get members(): readonly string[] {
    return this.membership?.members ?? [];
  }

  /** The owner of a cache as this node sees it now. */
  ownerOf(ref: EntityRef): string | undefined {
    return this.membership?.ownerOf(ref);
  }

  /**
   * Connects, learns the members, serves forwarded commands, then joins (heartbeats). Called
   * once the node can run commands (AppLifecycle, after the journal and projections are up).
   */
  async start(runHere: RunHere): Promise<void> {
    const { options } = this;
    this.runHere = runHere;
    const nc = await connect({
      servers: [...options.servers],
      user: options.user,
      pass: options.password,
      token: options.token,
      name: `cachelog-cluster-${options.self}`,
      timeout: options.timeoutMs,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // nats.js builds two errors per request up front for their stack traces: a cost per forwarded command.
      noAsyncTraces: true,
    });
    this.nc = nc;
    this.maxPayload = nc.info?.max_payload ?? this.maxPayload;
    const bucket = `${options.stream}-members`;
    const kvm = new Kvm(nc);
    let kv: KV;
    try {
      // Entries of members gone for a while are dropped by the server itself.
      kv = await kvm.create(bucket, { history: 1, replicas: options.replicas, ttl: Math.max(10_000, options.memberTtlMs * 3) });
    } catch {
      kv = await kvm.open(bucket); // made by another node with other settings: use it as it is
    }
    const membership = new Membership(nc, kv, bucket, { self: options.self, stream: options.stream, ttlMs: options.memberTtlMs, leaveWaitMs: Math.min(2000, options.memberTtlMs) });
    membership.onChange = (members) => this.logger.log(`members: ${members.length} (${members.join(', ')})`);
    await membership.start();
    this.membership = membership;
    // A queue group: two processes that share a node id (a copied data directory) never both run one forward.
    this.serving = nc.subscribe(ownSubject(options.stream, options.self), { queue: 'own', callback: (error: Error | null, msg: Msg) => void (error === null && this.serve(msg)) });
    await nc.flush();
    membership.join();
    this.logger.log(`node ${options.self} joined: caches are owned by rendezvous over the live members (NATS_MEMBER_TTL_MS ${options.memberTtlMs})`);
  }

  route(ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined, here: () => Promise<Reply>): Promise<Reply> {
    const owner = this.membership?.ownerOf(ref);
    if (owner === undefined || owner === this.options.self || this.nc === undefined || !forwardable(command)) return here();
    return this.forward(owner, ref, command, quotaLimit, here, 1);
  }

  /**
   * Queues the command for its owner: the commands for one owner that arrive in the same turn
   * of the event loop go in one NATS request (and come back in one reply), so forwarding costs
   * a message per batch, not per command, the way the journal publishes a group commit.
   */
  private forward(owner: string, ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined, here: () => Promise<Reply>, routes: number): Promise<Reply> {
    let bytes: Uint8Array;
    try {
      bytes = encodeForwarded(ref, command, quotaLimit);
    } catch {
      return here(); // nothing this version cannot carry reaches here; if it did, the fence makes running it here safe
    }
    // Larger than one NATS message (a transaction of several large values): run here, fenced like any write.
    if (bytes.byteLength + 1024 > this.maxPayload) return here();
    return new Promise<Reply>((resolve) => {
      const item: Pending = { ref, command, quotaLimit, here, routes, bytes, resolve };
      if (bytes.byteLength > BATCH_ITEM_BYTES) {
        void this.send(owner, [item]);
        return;
      }
      let batch = this.batches.get(owner);
      if (batch !== undefined && (batch.items.length >= BATCH_COMMANDS || batch.bytes + bytes.byteLength > BATCH_BYTES)) {
        this.batches.delete(owner);
        void this.send(owner, batch.items);
        batch = undefined;
      }
      if (batch === undefined) {
        const opened = { items: [] as Pending[], bytes: 0 };
        this.batches.set(owner, opened);
        batch = opened;
        setImmediate(() => {
          if (this.batches.get(owner) !== opened) return;
          this.batches.delete(owner);
          void this.send(owner, opened.items);
        });
      }
      batch.items.push(item);
      batch.bytes += bytes.byteLength;
    });
  }

  /** One request to the owner for a batch; each command is answered, routed again or refused on its own. */
  private async send(owner: string, items: readonly Pending[]): Promise<void> {
    const nc = this.nc;
    if (nc === undefined) {
      for (const item of items) item.resolve(item.here()); // closed while the batch waited: nothing was sent
      return;
    }
    let msg: Msg;
    try {
      msg = await nc.request(ownSubject(this.options.stream, owner), encodeBatch(items.map((item) => item.bytes)), { timeout: this.options.forwardTimeoutMs });
    } catch (error) {
      const undelivered = error instanceof RequestError && error.isNoResponders();
      if (!undelivered) {
        this.counts.indeterminate += items.length;
        this.logger.warn(`${items.length} command(s) forwarded to node ${owner} got no answer in ${this.options.forwardTimeoutMs} ms (${(error as Error).message}); answered 503, not sent again`);
      }
      for (const item of items) {
        if (undelivered) item.resolve(this.reroute(owner, item));
        else item.resolve({ ok: false, error: new JournalUnavailableError(error, `the node that owns cache ${JSON.stringify(item.ref.name)} did not answer in time; the write may still land (it is not repeated)`) });
      }
      return;
    }
    let answers: ReturnType<typeof decodeAnswers> | undefined;
    try {
      answers = decodeAnswers(msg.data);
    } catch {
      answers = undefined;
    }
    items.forEach((item, i) => {
      let answer: Answer | undefined;
      if (answers !== undefined) {
        const bytes = typeof answers === 'number' ? encodeStatus(answers) : answers[i];
        try {
          answer = bytes === undefined ? { status: AnswerStatus.Unreadable } : decodeAnswer(bytes, item.ref);
        } catch {
          answer = undefined;
        }
      }
      item.resolve(this.answered(owner, item, answer));
    });
  }

  private async answered(owner: string, item: Pending, answer: Answer | undefined): Promise<Reply> {
    if (answer === undefined) {
      // An answer this node cannot read: the owner may have carried the command out, so it is not run again.
      this.counts.indeterminate++;
      return { ok: false, error: new JournalUnavailableError(undefined, `the node that owns cache ${JSON.stringify(item.ref.name)} answered in a form this node cannot read; the write may have landed (it is not repeated)`) };
    }
    switch (answer.status) {
      case AnswerStatus.Reply:
        this.counts.answered++;
        await this.settleHere(item.ref, answer.reply);
        return answer.reply;
      case AnswerStatus.Gone:
        return this.reroute(owner, item);
      case AnswerStatus.Unreadable:
        return item.here();
      default:
        this.counts.indeterminate++;
        return { ok: false, error: new JournalUnavailableError(undefined, `the command was carried out by the node that owns cache ${JSON.stringify(item.ref.name)}, but its answer is larger than one NATS message`) };
    }
  }

  /** The owner surely ran nothing (gone, or leaving): another owner, or here. */
  private reroute(owner: string, item: Pending): Promise<Reply> {
    this.counts.rerouted++;
    this.membership?.suspect(owner);
    const next = this.membership?.ownerOf(item.ref);
    if (item.routes >= MAX_ROUTES || next === undefined || next === this.options.self || next === owner) return item.here();
    return this.forward(next, item.ref, item.command, item.quotaLimit, item.here, item.routes + 1);
  }

  /**
   * Read-your-writes on this node: the owner's write is applied here too (to the cache's copy,
   * if this node holds one, and to its read models) before the client has its answer.
   */
  private async settleHere(ref: EntityRef, reply: Reply): Promise<void> {
    if (!reply.ok || reply.envelopes.length === 0) return;
    const last = reply.envelopes[reply.envelopes.length - 1];
    // Loaded, or recovering (a recovery that read the log before this write is caught up by reach).
    if (this.registry.loaded(ref) !== undefined) {
      try {
        await this.registry.reach(ref, last.seq);
      } catch {
        // a journal fault is the next read's to report
      }
    }
    await this.readModels.whenApplied(last.offset, Math.max(this.readWaitMs, this.options.timeoutMs));
  }

  /** Commands another node forwarded here: each run through this node's gateway, the replies sent back in one message. */
  private serve(msg: Msg): void {
    if (this.closing || this.runHere === undefined) {
      msg.respond(encodeStatus(AnswerStatus.Gone));
      return;
    }
    const items = decodeBatch(msg.data);
    if (items === undefined) {
      msg.respond(encodeStatus(AnswerStatus.Unreadable));
      return;
    }
    const runHere = this.runHere;
    this.inFlight++;
    const replies = items.map((bytes): Promise<Uint8Array> => {
      const forwarded = decodeForwarded(bytes);
      if (forwarded === undefined) return Promise.resolve(encodeStatus(AnswerStatus.Unreadable));
      this.counts.served++;
      return runHere(forwarded.ref, forwarded.command, forwarded.quotaLimit)
        .catch((error: unknown): Reply => ({ ok: false, error: new JournalUnavailableError(error) }))
        .then(encodeReply);
    });
    Promise.all(replies)
      .then((answers) => {
        // Past one message: the largest answers become TooLarge (carried out, the client gets 503) until the rest fit.
        let size = answers.reduce((n, a) => n + a.byteLength + 8, 1024);
        while (size > this.maxPayload) {
          const largest = answers.reduce((at, a, i) => (a.byteLength > answers[at].byteLength ? i : at), 0);
          const tooLarge = encodeStatus(AnswerStatus.TooLarge);
          size -= answers[largest].byteLength - tooLarge.byteLength;
          answers[largest] = tooLarge;
        }
        msg.respond(encodeAnswers(answers));
      })
      .catch((error: unknown) => this.logger.warn(`could not answer forwarded commands: ${(error as Error).message}`))
      .finally(() => {
        if (--this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
      });
  }

  /**
   * SIGTERM's first step: leave the members (none routes here once it has answered), while
   * commands already forwarded here keep running; this node forwards its own from now on.
   */
  async leave(): Promise<void> {
    const membership = this.membership;
    if (membership === undefined) return;
    const started = Date.now();
    const { answered, asked } = await membership.leave();
    this.logger.log(`left the cluster: ${answered} of ${asked} members confirmed in ${Date.now() - started} ms; their caches' commands go to their new owners`);
  }

  /** After the registry stopped: answer what was forwarded here, then close the connection. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => this.drained.push(resolve)), new Promise((resolve) => setTimeout(resolve, this.options.forwardTimeoutMs).unref())]);
    }
    this.membership?.stop();
    this.serving?.unsubscribe();
    await this.nc?.drain().catch(() => undefined);
    this.nc = undefined;
  }
}

export const ownSubject = (stream: string, id: string): string => `${stream}.own.${id}`;

/**
 * Commands sent to the owner: all but a restore (a task's, carrying a whole past state; it runs
 * where its task runs) and operations whose answer may not fit one NATS message (a transaction
 * that lists the keys, or reads several values). Those run here, fenced like any write.
 */
function forwardable(command: CacheCommand): boolean {
  if (command.type === 'RestoreTo') return false;
  if (command.type !== 'ApplyOperations') return true;
  let reads = 0;
  for (const op of command.ops) {
    if (op.op === 'keys') return false;
    if (op.op === 'read' && ++reads > 1) return false;
  }
  return true;
}
