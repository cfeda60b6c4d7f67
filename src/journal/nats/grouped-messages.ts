import type { MsgHdrs } from '@nats-io/nats-core';
import { CacheEvent } from '../../domain';
import { encodeEvent } from '../codec';

/**
 * How the NATS journal lays a cache's events into stream messages.
 *
 * - A message holds one or more consecutive events of one cache (one group commit, or a
 *   part of a large one). `Cachelog-Seq` is the per-cache seq of its first event. A message of
 *   one event is the event's bytes alone (the format every version wrote and reads); a message
 *   of several carries `Cachelog-Events: <n>` and its body is the n events, each as a 4-byte
 *   big-endian length and the encoded event.
 * - Global offsets: the event `i` (0-based) of the `n` in the message at stream sequence `s` has
 *   offset `s × OFFSET_SLOTS − (n − 1 − i)`. A message's last event is `s × OFFSET_SLOTS`, so
 *   the stream's end is an offset without reading its last message; offsets increase with the
 *   stream and within a message, but are not gapless (a message holds at most OFFSET_SLOTS events).
 */
export const SEQ_HEADER = 'Cachelog-Seq';
export const COUNT_HEADER = 'Cachelog-Events';
export const OFFSET_SLOTS = 1024;
/** Room a message keeps for its subject, headers and the protocol line. */
const MESSAGE_OVERHEAD_BYTES = 8 * 1024;

/** One event as read from a message: its seq, global offset, stream sequence and encoded bytes. */
export interface MessageEvent {
  readonly seq: number;
  readonly offset: number;
  readonly streamSeq: number;
  readonly data: Uint8Array;
}

/** The offset of event `index` of `count` in the message at `streamSeq`. */
export const offsetOf = (streamSeq: number, index: number, count: number): number => streamSeq * OFFSET_SLOTS - (count - 1 - index);

/** The first stream sequence that can hold an event with an offset above `offset`. */
export const firstStreamSeqAfter = (offset: number): number => Math.floor(offset / OFFSET_SLOTS) + 1;

/** The stream's end as an offset: the last event of its last message. */
export const endOffset = (lastStreamSeq: number): number => lastStreamSeq * OFFSET_SLOTS;

/** How many events a message holds, from its headers. */
export function countOf(hdrs: MsgHdrs | undefined): number {
  const raw = hdrs?.get(COUNT_HEADER);
  if (raw === undefined || raw === '') return 1;
  const count = Number(raw);
  if (!Number.isSafeInteger(count) || count < 1 || count > OFFSET_SLOTS) throw new RangeError(`bad ${COUNT_HEADER} header: ${raw.slice(0, 20)}`);
  return count;
}

/** The per-cache seq of a message's first event, from its headers. */
export function firstSeqOf(hdrs: MsgHdrs | undefined, streamSeq: number): number {
  const seq = Number(hdrs?.get(SEQ_HEADER));
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`message ${streamSeq} has no ${SEQ_HEADER} header`);
  return seq;
}

/** The per-cache seq of a message's last event. */
export const lastSeqOf = (hdrs: MsgHdrs | undefined, streamSeq: number): number => firstSeqOf(hdrs, streamSeq) + countOf(hdrs) - 1;

/** The events of one stream message, in order (a single-event message of any version included). */
export function eventsOf(streamSeq: number, hdrs: MsgHdrs | undefined, data: Uint8Array): MessageEvent[] {
  const first = firstSeqOf(hdrs, streamSeq);
  const count = countOf(hdrs);
  if (count === 1) return [{ seq: first, offset: offsetOf(streamSeq, 0, 1), streamSeq, data }];
  const events: MessageEvent[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.byteLength) throw new RangeError(`message ${streamSeq} is truncated (event ${i + 1} of ${count})`);
    const length = view.getUint32(at);
    at += 4;
    if (at + length > data.byteLength) throw new RangeError(`message ${streamSeq} is truncated (event ${i + 1} of ${count})`);
    events.push({ seq: first + i, offset: offsetOf(streamSeq, i, count), streamSeq, data: data.subarray(at, at + length) });
    at += length;
  }
  if (at !== data.byteLength) throw new RangeError(`message ${streamSeq} has ${data.byteLength - at} bytes after its ${count} events`);
  return events;
}

/** A message to publish: the first event's index in the append, how many events, its body. */
export interface OutgoingMessage {
  readonly from: number;
  readonly count: number;
  readonly data: Uint8Array;
}

/**
 * Lays an append's events into as few messages as fit: at most OFFSET_SLOTS events and
 * `maxPayload` bytes each (an event too large to share a message goes alone, as it always did).
 */
export function messagesFor(events: readonly CacheEvent[], maxPayload: number): OutgoingMessage[] {
  const budget = maxPayload - MESSAGE_OVERHEAD_BYTES;
  const encoded = events.map((event) => encodeEvent(event));
  const out: OutgoingMessage[] = [];
  let from = 0;
  while (from < encoded.length) {
    let to = from + 1;
    let bytes = 4 + encoded[from].length;
    while (to < encoded.length && to - from < OFFSET_SLOTS && bytes + 4 + encoded[to].length <= budget) bytes += 4 + encoded[to++].length;
    const count = to - from;
    if (count === 1) {
      out.push({ from, count, data: encoded[from] });
    } else {
      const body = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (let i = from; i < to; i++) {
        body.writeUInt32BE(encoded[i].length, at);
        encoded[i].copy(body, at + 4);
        at += 4 + encoded[i].length;
      }
      out.push({ from, count, data: body });
    }
    from = to;
  }
  return out;
}
