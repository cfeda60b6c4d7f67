import { Logger } from '@nestjs/common';
import { Consumer, DeliverPolicy, JetStreamApiError, JetStreamClient, JetStreamManager, JsMsg, MsgRequest, NextMsgRequest, OrderedConsumerOptions, StoredMsg, jetstream } from '@nats-io/jetstream';
import { KV } from '@nats-io/kv';
import { MsgHdrs, NatsConnection, TimeoutError, headers, nuid } from '@nats-io/nats-core';
import { CacheEvent } from '../../domain';
import { decodeEvent } from '../codec';
import { Envelope, Journal, JournalRecord, JournalSequenceConflictError, JournalUnavailableError, seqAtTimeIn } from '../journal';
import { EntityRef, MAX_SEQ, encodeEntityId } from '../keys';
import { COUNT_HEADER, MessageEvent, SEQ_HEADER, endOffset, eventsOf, firstStreamSeqAfter, lastSeqOf, messagesFor, offsetOf } from './grouped-messages';
import { LiveFollower } from './live-follower';
import { Subjects } from './subjects';

export { SEQ_HEADER } from './grouped-messages';
/** JetStream's "wrong last sequence" API error: a Nats-Expected-Last-Subject-Sequence did not hold. */
const WRONG_LAST_SEQUENCE = 10071;
const READ_CHUNK = 512;
/** Tries of one message in serialized mode while other caches' writes keep moving the stream's end. */
const SERIALIZED_ATTEMPTS = 100;
const UNREACHABLE = 'the journal (NATS JetStream) did not answer in time; writes resume once it is reachable';
/** The shortest fetch wait nats.js accepts; only paid when a range turns out empty (all compacted). */
const FETCH_EXPIRES_MS = 1000;
/**
 * One try at creating a read consumer. A healthy server answers in milliseconds; after a server
 * died, nats-server (2.9.10 measured) still places about one new consumer in three on the dead
 * peer for a minute or more, and that create never answers: so a short try, and another.
 */
const CONSUMER_CREATE_TRY_MS = 1500;

/** The start of the name of every node's live follower consumer (each made anew under a new name). */
export const FOLLOW_PREFIX = 'follow_';

/** The most events a read takes by direct gets (one request each) before it scans instead. */
const DIRECT_READ_MAX = 32;

/** A stream message, read through a consumer or by a direct get. */
interface StreamMessage {
  readonly subject: string;
  readonly streamSeq: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/** Where a cache's log ends: its last per-cache seq and the stream sequence of the message holding it. */
interface Head {
  readonly seq: number;
  readonly streamSeq: number;
}

export interface NatsJournalOptions {
  readonly stream: string;
  readonly timeoutMs: number;
}

/**
 * Whether a server serializes Nats-Expected-Last-Subject-Sequence on a replicated stream:
 * fixed in nats-server 2.9.21 (nats-server#4320); Debian 12 ships 2.9.10.
 */
export function serializesSubjectChecks(version: string): boolean {
  const [major, minor, patch] = version.split(/[.-]/).map((part) => Number(part));
  if (![major, minor, patch].every(Number.isFinite)) return false;
  return major > 2 || (major === 2 && (minor > 9 || (minor === 9 && patch >= 21)));
}

/**
 * The journal on one JetStream stream, shared by every cachelog node.
 *
 * - An append (one group commit of a cache) is one message on `<stream>.ev.<org>.<cache>`
 *   (several only when it exceeds a message's size or OFFSET_SLOTS events); its per-cache
 *   seq range rides in headers and its events' global offsets derive from its stream
 *   sequence (see grouped-messages.ts). Single-event messages of earlier versions read as before.
 * - An append publishes with `Nats-Expected-Last-Subject-Sequence` set to the stream sequence
 *   of the cache's last message, so the server refuses it if any node wrote to the cache first
 *   (JOURNAL_SEQUENCE_CONFLICT): a stale writer can fail a write but never fork a cache. The
 *   messages of one append are chained the same way, each expecting the one before it.
 * - Pipelining: appends to one cache are published in the order handed in, each as soon as
 *   the one before it is acknowledged (its stream sequence is the next one's expectation), not
 *   after the read models caught up with it; appends to different caches are in flight at once.
 * - One ordered consumer per process follows the whole stream from the end it found at open;
 *   it feeds `follow()` (projections, history streams) and `remote$`-style listeners with every
 *   node's events in stream order. A LiveFollower makes it again, from the last message it
 *   delivered, when it stops or stalls (after a server's death, see live-follower.ts).
 * - Compaction deletes messages; the compaction mark lives in a KV bucket.
 *
 * Durability is JetStream's: a publish is acknowledged once the stream's replicas have it in
 * memory (with NATS_REPLICAS=3, a majority of three servers); on one server it is on disk only
 * when the server runs with `sync_interval: always` (see docs/scale-out.md).
 */
export class NatsJournal extends Journal {
  private readonly logger = new Logger('NatsJournal');
  readonly subjects: Subjects;
  private readonly heads = new Map<string, Head>();
  /** The last append handed in per cache subject, settled or not: the next one waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Serialized appends (see publishSerialized): the one publish under way in this process. */
  private publishing: Promise<void> = Promise.resolve();
  private serialized = false;
  /** The largest message the server takes (its max_payload). */
  private maxPayload = 1024 * 1024;
  private highest = 0;
  private inFlight = 0;
  private idle: Array<() => void> = [];
  private live: LiveFollower | undefined;
  private pendingLive: Envelope[] = [];
  private flushScheduled = false;
  private readonly committedListeners: Array<(batch: readonly Envelope[]) => void> = [];

  private js!: JetStreamClient;
  /** The same connection with the short CONSUMER_CREATE_TRY_MS timeout, for creating read consumers. */
  private jsConsumers!: JetStreamClient;
  private jsm!: JetStreamManager;
  private marks!: KV;

  /** Awaited before an append resolves, with its last offset (the node's read models catch up to it). */
  settled: ((offset: number) => Promise<unknown>) | undefined;

  constructor(private readonly options: NatsJournalOptions) {
    super();
    this.subjects = new Subjects(options.stream);
  }

  override get shared(): boolean {
    return true;
  }

  get highestOffset(): number {
    return this.highest;
  }

  /**
   * Learns where the stream ends and starts following it from there. `serialized`: append
   * with the stream-wide check (see publishSerialized).
   */
  async open(nc: NatsConnection, jsm: JetStreamManager, marks: KV, serialized = false): Promise<void> {
    this.serialized = serialized;
    this.maxPayload = nc.info?.max_payload ?? this.maxPayload;
    this.js = jetstream(nc, { timeout: this.options.timeoutMs });
    this.jsConsumers = jetstream(nc, { timeout: Math.min(CONSUMER_CREATE_TRY_MS, this.options.timeoutMs) });
    this.jsm = jsm;
    this.marks = marks;
    const info = await this.jsm.streams.info(this.options.stream);
    this.highest = endOffset(info.state.last_seq);
    const live = new LiveFollower(
      {
        consumer: (startSeq) => this.orderedConsumer({ filter_subjects: this.subjects.all, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq, name_prefix: `${FOLLOW_PREFIX}${nuid.next()}` }),
        lastSeq: async () => (await this.jsm.streams.info(this.options.stream)).state.last_seq,
        deliver: (msg) => this.onLive(msg),
      },
      info.state.last_seq,
    );
    await live.start();
    this.live = live;
  }

  /** Every node's committed events, in stream order, as this process learns of them. */
  onCommitted(listener: (batch: readonly Envelope[]) => void): void {
    this.committedListeners.push(listener);
  }

  private onLive(msg: JsMsg): void {
    let envelopes: Envelope[];
    try {
      envelopes = this.envelopesOf(msg.subject, msg.seq, msg.headers, msg.data);
    } catch (error) {
      this.logger.error(`skipping unreadable stream message ${msg.seq}: ${(error as Error).message}`);
      return;
    }
    if (envelopes.length === 0) return;
    const last = envelopes[envelopes.length - 1];
    if (last.offset > this.highest) this.highest = last.offset;
    const key = msg.subject;
    const head = this.heads.get(key);
    if (head === undefined || head.streamSeq < msg.seq) this.remember(key, { seq: last.seq, streamSeq: msg.seq });
    for (const envelope of envelopes) this.pendingLive.push(envelope);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        const batch = this.pendingLive;
        this.pendingLive = [];
        this.committed.next(batch);
        for (const listener of this.committedListeners) listener(batch);
      });
    }
  }

  /** The envelopes of one stream message (one event, or a group's). */
  private envelopesOf(subject: string, streamSeq: number, hdrs: MsgHdrs | undefined, data: Uint8Array): Envelope[] {
    const ref = this.subjects.refOf(subject);
    const entityId = encodeEntityId(ref);
    return eventsOf(streamSeq, hdrs, data).map((e) => ({ ref, entityId, seq: e.seq, offset: e.offset, event: decodeEvent(e.data) }));
  }

  private remember(subject: string, head: Head): void {
    // Only a cache of lookups (each is one request away): bounded, and cleared when full.
    if (this.heads.size >= 100_000 && !this.heads.has(subject)) this.heads.clear();
    this.heads.set(subject, head);
  }

  /** The cache's last event as the server has it now. */
  private async fetchHead(subject: string): Promise<Head> {
    let last: StoredMsg | null;
    try {
      last = await this.jsm.streams.getMessage(this.options.stream, { last_by_subj: subject });
    } catch (error) {
      throw new JournalUnavailableError(error, UNREACHABLE);
    }
    const head = last === null ? { seq: 0, streamSeq: 0 } : { seq: lastSeqOf(last.header, last.seq), streamSeq: last.seq };
    const known = this.heads.get(subject);
    if (known === undefined || known.streamSeq <= head.streamSeq) this.remember(subject, head);
    return head;
  }

  /**
   * Appends to one cache run one after the other in the order they were handed in (like
   * a group commit's batch order), each published as soon as the previous one is
   * acknowledged (not after it settled): each message expects the stream sequence of the one
   * before it.
   */
  append(ref: EntityRef, expectedSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]> {
    this.inFlight++;
    const subject = this.subjects.of(ref);
    const before = this.tails.get(subject);
    const run = (before === undefined ? this.publishChain(ref, subject, expectedSeq, events) : before.then(() => this.publishChain(ref, subject, expectedSeq, events)));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(subject, tail);
    const settled = this.settled === undefined ? run : run.then(async (envelopes) => {
      if (envelopes.length > 0) await this.settled!(envelopes[envelopes.length - 1].offset);
      return envelopes;
    });
    return settled.finally(() => {
      if (this.tails.get(subject) === tail) this.tails.delete(subject);
      if (--this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  private async publishChain(ref: EntityRef, subject: string, expectedSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]> {
    if (this.serialized) return this.exclusivePublish(() => this.publishSerialized(ref, subject, expectedSeq, events));
    let head = this.heads.get(subject);
    if (head === undefined || head.seq !== expectedSeq) head = await this.fetchHead(subject);
    if (head.seq !== expectedSeq) throw new JournalSequenceConflictError(ref, expectedSeq, head.seq);
    const envelopes: Envelope[] = [];
    let streamSeq = head.streamSeq;
    for (const message of messagesFor(events, this.maxPayload)) {
      const seq = expectedSeq + 1 + message.from;
      streamSeq = await this.publishOne(ref, subject, seq, message.count, message.data, { lastSubjectSequence: streamSeq });
      this.envelopesFor(envelopes, ref, events, message, seq, streamSeq);
    }
    return envelopes;
  }


  private envelopesFor(out: Envelope[], ref: EntityRef, events: readonly CacheEvent[], message: { from: number; count: number }, firstSeq: number, streamSeq: number): void {
    const entityId = encodeEntityId(ref);
    for (let i = 0; i < message.count; i++) out.push({ ref, entityId, seq: firstSeq + i, offset: offsetOf(streamSeq, i, message.count), event: events[message.from + i] });
  }

  /** Publishes one message of `count` events, the first at `seq`; answers its stream sequence. */
  private async publishOne(ref: EntityRef, subject: string, seq: number, count: number, data: Uint8Array, expect: { lastSubjectSequence: number; lastSequence?: number }): Promise<number> {
    const hdrs = headers();
    hdrs.set(SEQ_HEADER, String(seq));
    if (count > 1) hdrs.set(COUNT_HEADER, String(count));
    let streamSeq: number;
    try {
      const ack = await this.js.publish(subject, data, { headers: hdrs, expect, timeout: this.options.timeoutMs });
      streamSeq = ack.seq;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE) {
        const actual = await this.fetchHead(subject);
        throw new JournalSequenceConflictError(ref, seq - 1, actual.seq);
      }
      // The write may or may not have landed (a timeout): the next append asks the server.
      this.heads.delete(subject);
      throw new JournalUnavailableError(error, UNREACHABLE);
    }
    this.remember(subject, { seq: seq + count - 1, streamSeq });
    if (endOffset(streamSeq) > this.highest) this.highest = endOffset(streamSeq);
    this.live?.reached(streamSeq);
    return streamSeq;
  }

  private exclusivePublish<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.publishing.then(fn);
    this.publishing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The append for a replicated stream on a server that does not serialize
   * Nats-Expected-Last-Subject-Sequence (nats-server < 2.9.21, nats-server#4320: two nodes
   * could both be accepted with the same expectation, forking a cache). Each message expects
   * the stream's last sequence instead, which those servers do check against in-flight
   * proposals: read the stream's end L, then the cache's last event H (nothing of the cache
   * after H up to L), then publish expecting L. Correct, but one publish at a time per node
   * and a retry whenever any node wrote meanwhile: for old servers only.
   */
  private async publishSerialized(ref: EntityRef, subject: string, expectedSeq: number, events: readonly CacheEvent[]): Promise<Envelope[]> {
    const envelopes: Envelope[] = [];
    for (const message of messagesFor(events, this.maxPayload)) {
      const seq = expectedSeq + 1 + message.from;
      for (let attempt = 1; ; attempt++) {
        let last: number;
        try {
          last = (await this.jsm.streams.info(this.options.stream)).state.last_seq;
        } catch (error) {
          throw new JournalUnavailableError(error, UNREACHABLE);
        }
        const head = await this.fetchHead(subject);
        if (head.seq !== seq - 1) {
          if (message.from === 0) throw new JournalSequenceConflictError(ref, seq - 1, head.seq);
          throw new JournalUnavailableError(new Error('another node wrote in the middle of an append'), UNREACHABLE);
        }
        try {
          const streamSeq = await this.publishOne(ref, subject, seq, message.count, message.data, { lastSubjectSequence: head.streamSeq, lastSequence: last });
          this.envelopesFor(envelopes, ref, events, message, seq, streamSeq);
          break;
        } catch (error) {
          // Another cache's write moved the stream's end: read both again.
          if (error instanceof JournalSequenceConflictError && attempt < SERIALIZED_ATTEMPTS) continue;
          throw error;
        }
      }
    }
    return envelopes;
  }

  whenIdle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Messages matching `filter` with stream seq in [fromStreamSeq, endStreamSeq], in order, in
   * chunks, through an ordered consumer (recreated by the client on any gap). When no consumer
   * can be made in NATS_TIMEOUT_MS x 3 (after a server died, see CONSUMER_CREATE_TRY_MS), by
   * direct gets instead: a request per message, slower, but the read is answered.
   */
  private async *scan(filter: string, fromStreamSeq: number, endStreamSeq: number): AsyncGenerator<StreamMessage[]> {
    if (endStreamSeq < fromStreamSeq) return;
    let consumer: Consumer;
    try {
      consumer = await this.orderedConsumer({
        filter_subjects: filter,
        ...(fromStreamSeq <= 1 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromStreamSeq }),
      });
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      this.logger.warn(`no consumer to read ${filter} (${error.message}): reading stream seqs ${fromStreamSeq}-${endStreamSeq} one by one`);
      yield* this.directScan(filter, fromStreamSeq, endStreamSeq);
      return;
    }
    try {
      for (let done = false; !done; ) {
        const chunk: StreamMessage[] = [];
        const batch = await consumer.fetch({ max_messages: READ_CHUNK, expires: FETCH_EXPIRES_MS });
        for await (const msg of batch) {
          if (msg.seq <= endStreamSeq) chunk.push({ subject: msg.subject, streamSeq: msg.seq, headers: msg.headers, data: msg.data });
          if (msg.seq >= endStreamSeq || msg.info.pending === 0) {
            done = true;
            batch.stop();
            break;
          }
        }
        if (chunk.length === 0) done = true;
        if (chunk.length > 0) yield chunk;
      }
    } finally {
      void consumer.delete().catch(() => undefined);
    }
  }

  /** Messages matching `filter` with stream seq in [fromStreamSeq, endStreamSeq], one direct get each, in chunks. */
  private async *directScan(filter: string, fromStreamSeq: number, endStreamSeq: number): AsyncGenerator<StreamMessage[]> {
    let messages: StreamMessage[] = [];
    for (let cursor = fromStreamSeq; cursor <= endStreamSeq; ) {
      let msg: StoredMsg | null;
      try {
        // The stream leader answers (a direct get may come from a replica that is behind).
        // nats-server's MSG.GET takes next_by_subj since 2.9.0; nats.js types it for direct gets only.
        const next: NextMsgRequest = { seq: cursor, next_by_subj: filter };
        msg = await this.jsm.streams.getMessage(this.options.stream, next as unknown as MsgRequest);
      } catch (error) {
        throw new JournalUnavailableError(error, UNREACHABLE);
      }
      if (msg === null || msg.seq > endStreamSeq) break;
      messages.push({ subject: msg.subject, streamSeq: msg.seq, headers: msg.header, data: msg.data });
      cursor = msg.seq + 1;
      if (messages.length === READ_CHUNK) {
        yield messages;
        messages = [];
      }
    }
    if (messages.length > 0) yield messages;
  }

  /**
   * An ordered consumer on the stream, created in short tries until NATS_TIMEOUT_MS × 3 has
   * passed (see CONSUMER_CREATE_TRY_MS); then the last error, as for any unreachable journal.
   */
  private async orderedConsumer(options: Partial<OrderedConsumerOptions>): Promise<Consumer> {
    const until = Date.now() + 3 * this.options.timeoutMs;
    for (;;) {
      try {
        return await this.jsConsumers.consumers.get(this.options.stream, options);
      } catch (error) {
        if (!(error instanceof TimeoutError) || Date.now() >= until) throw error;
      }
    }
  }

  /**
   * The cache's events from `fromSeq` (earlier ones may come too), with their stream
   * sequences, in order. A short range whose start this process knows (a cache of a few
   * events, or a catch-up by a few from the head it last saw) is read by direct gets: no
   * consumer to create, which after a server died can take many tries (see
   * CONSUMER_CREATE_TRY_MS). Anything else is one scan of the subject.
   */
  private async *entityMessages(ref: EntityRef, fromSeq = 1): AsyncGenerator<MessageEvent[]> {
    const subject = this.subjects.of(ref);
    const seen = this.heads.get(subject);
    const head = await this.fetchHead(subject);
    if (head.streamSeq === 0 || head.seq < fromSeq) return;
    const start = fromSeq <= 1 ? 1 : seen !== undefined && seen.seq === fromSeq - 1 ? seen.streamSeq + 1 : undefined;
    // A short range by direct gets from the start, a long one by a scan.
    const direct = start !== undefined && head.seq - fromSeq < DIRECT_READ_MAX;
    const chunks = direct ? this.directScan(subject, start, head.streamSeq) : this.scan(subject, 1, head.streamSeq);
    for await (const chunk of chunks) yield chunk.flatMap((msg) => eventsOf(msg.streamSeq, msg.headers, msg.data));
  }

  async *replay(ref: EntityRef, fromSeq = 1, toSeq = MAX_SEQ): AsyncGenerator<JournalRecord> {
    for await (const chunk of this.entityMessages(ref, fromSeq)) {
      for (const { seq, data } of chunk) {
        if (seq > toSeq) return;
        if (seq >= fromSeq) yield { seq, event: decodeEvent(data) };
      }
    }
  }

  async forEachEvent(ref: EntityRef, fromSeq: number, visit: (seq: number, event: CacheEvent) => void): Promise<void> {
    for await (const chunk of this.entityMessages(ref, fromSeq)) {
      for (const { seq, data } of chunk) if (seq >= fromSeq) visit(seq, decodeEvent(data));
    }
  }

  async highestSeq(ref: EntityRef): Promise<number> {
    return (await this.fetchHead(this.subjects.of(ref))).seq;
  }

  /**
   * `maxEvents` bounds the answer as on the other journals (the newest events looked at),
   * but the subject is read from its start: a stream cannot be read backwards by subject.
   */
  async seqAtTime(ref: EntityRef, time: number, maxEvents = Infinity): Promise<number> {
    const timeline: Array<{ seq: number; at: number }> = [];
    for await (const record of this.replay(ref)) timeline.push({ seq: record.seq, at: record.event.at });
    return seqAtTimeIn(timeline, time, maxEvents);
  }

  async offsetsOf(ref: EntityRef, seqs: readonly number[]): Promise<Array<number | undefined>> {
    const wanted = new Set(seqs);
    const found = new Map<number, number>();
    for await (const chunk of this.entityMessages(ref)) for (const { seq, offset } of chunk) if (wanted.has(seq)) found.set(seq, offset);
    return seqs.map((seq) => found.get(seq));
  }

  async compactedThrough(ref: EntityRef): Promise<number> {
    const entry = await this.marks.get(this.subjects.kvKey(ref));
    return entry === null || entry.length === 0 ? 0 : Number(entry.string());
  }

  async dropEvents(ref: EntityRef, beforeSeq: number, keep: ReadonlySet<number>, onProgress?: (dropped: number) => void): Promise<number> {
    if (beforeSeq - 1 <= (await this.compactedThrough(ref))) return 0;
    // The mark first: a crash part-way leaves history marked incomplete, never silently gappy.
    await this.marks.put(this.subjects.kvKey(ref), String(beforeSeq - 1));
    // A message goes when every event in it may: one holding a kept event (or one at or past
    // beforeSeq) stays whole, its other events with it.
    let dropped = 0;
    let done = false;
    for await (const chunk of this.entityMessages(ref)) {
      for (let i = 0; i < chunk.length && !done; ) {
        const streamSeq = chunk[i].streamSeq;
        let j = i;
        while (j < chunk.length && chunk[j].streamSeq === streamSeq) j++;
        const message = chunk.slice(i, j);
        i = j;
        if (message[0].seq >= beforeSeq) done = true;
        else if (message.every(({ seq }) => seq < beforeSeq && !keep.has(seq))) {
          await this.jsm.streams.deleteMessage(this.options.stream, streamSeq, false);
          dropped += message.length;
        }
      }
      onProgress?.(dropped);
      if (done) break;
    }
    return dropped;
  }

  async *read(afterOffset: number): AsyncGenerator<Envelope[]> {
    const info = await this.jsm.streams.info(this.options.stream);
    const end = info.state.last_seq;
    if (endOffset(end) > this.highest) this.highest = endOffset(end);
    if (info.state.messages === 0) return;
    for await (const chunk of this.scan(this.subjects.all, Math.max(firstStreamSeqAfter(afterOffset), info.state.first_seq), end)) {
      const envelopes = chunk.flatMap((msg) => this.envelopesOf(msg.subject, msg.streamSeq, msg.headers, msg.data)).filter((e) => e.offset > afterOffset);
      if (envelopes.length > 0) yield envelopes;
    }
  }

  /** Stops following the stream and ends the followers. */
  async close(): Promise<void> {
    this.live?.close();
    this.live = undefined;
    this.endFollowers();
  }
}
