import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { Packr } from 'msgpackr';
import { EntityRef } from '../journal/keys';
import { Members } from './rendezvous';

const packr = new Packr({ useRecords: false, variableMapSize: true });

export interface MembershipOptions {
  /** This node's id (DATA_DIR/node-id). */
  readonly self: string;
  readonly stream: string;
  /** A member not heard for this long is dead (NATS_MEMBER_TTL_MS). */
  readonly ttlMs: number;
  /** How long a leaving node waits for each member to confirm it has seen it go. */
  readonly leaveWaitMs: number;
}

/** How often a member puts its key: often enough that a few missed beats are not a death. */
export const heartbeatMsFor = (ttlMs: number): number => Math.max(100, Math.min(1000, Math.floor(ttlMs / 3)));

/**
 * Who is in the cluster, as this node sees it. Each node puts its key in the KV bucket
 * `<stream>-members` every second (a heartbeat) and listens to every put and delete on the
 * bucket's subjects with a plain subscription: a put reaches listeners even while the bucket's
 * stream elects a leader after a NATS server died, so membership does not flap with JetStream.
 * A member is live while heard within the TTL (local monotonic time: no clock is compared
 * across machines), and not suspected: a forward that found no one subscribed for it (NATS
 * answers "no responders" as soon as a killed process's connection closes) suspects it until
 * its next heartbeat. Leaving: delete the key and tell each member directly, which answers once
 * it routes nothing more to the leaver.
 */
export class Membership {
  private readonly logger = new Logger('Membership');
  /** Local time each other member was last heard. */
  private readonly heard = new Map<string, number>();
  /** Local time a member was suspected (a forward found no responder). */
  private readonly suspected = new Map<string, number>();
  private current = new Members([]);
  private joined = false;
  private beat: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private readonly subscriptions: Subscription[] = [];
  /** Told each time the live members change (the log line, tests). */
  onChange: ((members: readonly string[]) => void) | undefined;
  private readonly incarnation = randomUUID();
  private readonly prefix: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    bucket: string,
    private readonly options: MembershipOptions,
  ) {
    this.prefix = `$KV.${bucket}.`;
  }

  /** The live members, sorted (this node among them once it has joined and until it leaves). */
  get members(): readonly string[] {
    return this.current.ids;
  }

  ownerOf(ref: EntityRef): string | undefined {
    return this.current.ownerOf(ref);
  }

  /** Listens, then reads who is there (entries younger than the TTL). Does not join yet. */
  async start(): Promise<void> {
    const { nc, options } = this;
    this.subscriptions.push(nc.subscribe(`${this.prefix}>`, { callback: (error, msg) => void (error === null && this.heardFrom(msg)) }));
    this.subscriptions.push(nc.subscribe(controlSubject(options.stream, options.self), { callback: (error, msg) => void (error === null && this.control(msg)) }));
    try {
      const now = performance.now();
      for await (const key of await this.kv.keys()) {
        if (key === options.self) continue;
        const entry = await this.kv.get(key);
        const age = entry === null || entry.operation !== 'PUT' ? Infinity : Date.now() - entry.created.getTime();
        if (age < options.ttlMs && !this.heard.has(key)) this.heard.set(key, now - Math.max(0, age));
      }
    } catch (error) {
      this.logger.warn(`could not list the members (${(error as Error).message}); they are learned from their next heartbeats`);
    }
    this.recompute();
    const every = Math.max(50, Math.min(250, Math.floor(options.ttlMs / 4)));
    this.sweep = setInterval(() => this.recompute(), every);
    this.sweep.unref();
  }

  /** Starts heartbeating: other nodes route this node's caches to it from their next heartbeat heard. */
  join(): void {
    this.joined = true;
    const put = () => {
      this.kv.put(this.options.self, packr.pack({ incarnation: this.incarnation, at: Date.now() })).catch(() => undefined); // listeners got it even if the bucket did not ack
    };
    put();
    this.beat = setInterval(put, heartbeatMsFor(this.options.ttlMs));
    this.beat.unref();
    this.recompute();
  }

  /** A forward to `id` found no responder: not a member until heard again. */
  suspect(id: string): void {
    if (id === this.options.self) return;
    this.suspected.set(id, performance.now());
    this.recompute();
  }

  /**
   * Leaves: no more heartbeats, the key deleted, and every member told directly; resolves once
   * each has answered (then none routes to this node any more, and what each forwarded before
   * has arrived here) or after `leaveWaitMs`. Returns how many answered of how many asked.
   */
  async leave(): Promise<{ answered: number; asked: number }> {
    if (this.beat) clearInterval(this.beat);
    this.beat = undefined;
    this.joined = false;
    this.recompute();
    const others = this.current.ids;
    const { self, stream, leaveWaitMs } = this.options;
    const told = others.map((id) =>
      this.nc.request(controlSubject(stream, id), packr.pack({ left: self }), { timeout: leaveWaitMs }).then(
        () => 1,
        () => 0,
      ),
    );
    const deleted = this.kv.delete(self).catch(() => undefined);
    const answered = (await Promise.all(told)).reduce((a: number, b) => a + b, 0);
    await Promise.race([deleted, new Promise((resolve) => setTimeout(resolve, leaveWaitMs).unref())]);
    return { answered, asked: others.length };
  }

  stop(): void {
    if (this.beat) clearInterval(this.beat);
    if (this.sweep) clearInterval(this.sweep);
    this.beat = this.sweep = undefined;
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  /** A put (heartbeat) or delete (leaving) on the bucket. */
  private heardFrom(msg: Msg): void {
    if (!msg.subject.startsWith(this.prefix)) return;
    const id = msg.subject.slice(this.prefix.length);
    const operation = msg.headers?.get('KV-Operation') || 'PUT';
    if (id === this.options.self) {
      if (operation === 'PUT' && this.incarnationOf(msg) !== this.incarnation) {
        this.logger.error(`another process heartbeats as node ${id}: two nodes share a DATA_DIR/node-id (copy a data directory without its node-id file)`);
      }
      return;
    }
    if (operation === 'PUT') {
      const fresh = !this.heard.has(id) || this.suspected.has(id);
      this.heard.set(id, performance.now());
      this.suspected.delete(id);
      if (fresh) this.recompute();
    } else if (this.heard.delete(id)) {
      this.recompute();
    }
  }

  private incarnationOf(msg: Msg): string | undefined {
    try {
      return (packr.unpack(msg.data) as { incarnation?: string }).incarnation;
    } catch {
      return undefined;
    }
  }

  /** Another node says it is leaving: route nothing more to it, then answer. */
  private control(msg: Msg): void {
    let left: string | undefined;
    try {
      left = (packr.unpack(msg.data) as { left?: unknown }).left as string | undefined;
    } catch {
      left = undefined;
    }
    if (typeof left === 'string' && left !== this.options.self && this.heard.delete(left)) this.recompute();
    msg.respond();
  }

  private recompute(): void {
    const now = performance.now();
    const live: string[] = this.joined ? [this.options.self] : [];
    for (const [id, at] of this.heard) {
      if (now - at >= this.options.ttlMs) {
        this.heard.delete(id);
        this.suspected.delete(id);
      } else if (!this.suspected.has(id)) live.push(id);
    }
    live.sort();
    const before = this.current.ids;
    if (live.length === before.length && live.every((id, i) => id === before[i])) return;
    this.current = new Members(live);
    this.onChange?.(live);
  }
}

export const controlSubject = (stream: string, id: string): string => `${stream}.member.${id}`;
