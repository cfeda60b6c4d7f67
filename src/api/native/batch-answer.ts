import { nextTurn } from '../../core/turns';
import { asBuffer } from './binary';

/** `{"cacheName":,"key":,"success":false,"value":}` around an element's strings. */
export const ELEMENT_ENVELOPE_BYTES = 48;

export const batchElement = (cacheName: string, key: string, value: Uint8Array | undefined) =>
  value === undefined ? { cacheName, key, success: false, value: '' } : { cacheName, key, success: true, value: asBuffer(value).toString('base64') };

/** Answers measured at this size or more are streamed. */
export const STREAMED_ANSWER_BYTES = 1024 * 1024;
/** What the batch answer's stream holds ahead of its reader. */
export const STREAM_HIGH_WATER_BYTES = 64 * 1024;
/** A value is encoded this many bytes at a time (a multiple of 3: the base64 of the slices, put end to end, is the value's). */
export const VALUE_SLICE_BYTES = 3 * 256 * 1024;
/** The stream gives the event loop a turn after producing this much. */
export const TURN_BYTES = 1024 * 1024;

/**
 * The batch answer, a slice at a time as the client reads it: values are encoded in slices of
 * VALUE_SLICE_BYTES, with a turn of the event loop after every TURN_BYTES produced, and a
 * client that does not read holds back the rest (nothing of it is built). A whole answer of
 * MAX_RESPONSE_BYTES encoded at once held the event loop for ~0.4 s; a stream of a synchronous
 * generator still did, while the socket took what it was given (~0.3 s on the first write of
 * 20 answers never read). The values are views of stored bytes that later writes never change
 * (stored values are append-only, see compact-entry-map.ts).
 */
export async function* batchAnswer(elements: ReadonlyArray<{ cacheName: string; key: string }>, values: ReadonlyArray<Uint8Array | undefined>): AsyncGenerator<string> {
  let produced = 0;
  yield '{"complete":true,"results":[';
  for (let i = 0; i < elements.length; i++) {
    const { cacheName, key } = elements[i];
    const value = values[i];
    const comma = i === 0 ? '' : ',';
    if (value === undefined || value.byteLength <= VALUE_SLICE_BYTES) {
      const text = comma + JSON.stringify(batchElement(cacheName, key, value));
      produced += text.length;
      yield text;
    } else {
      // The same text as JSON.stringify(batchElement(...)): base64 needs no JSON escapes.
      yield `${comma}{"cacheName":${JSON.stringify(cacheName)},"key":${JSON.stringify(key)},"success":true,"value":"`;
      const bytes = asBuffer(value);
      for (let at = 0; at < bytes.byteLength; at += VALUE_SLICE_BYTES) {
        const slice = bytes.toString('base64', at, Math.min(at + VALUE_SLICE_BYTES, bytes.byteLength));
        produced += slice.length;
        yield slice;
        if (produced >= TURN_BYTES) {
          await nextTurn();
          produced = 0;
        }
      }
      yield '"}';
    }
    if (produced >= TURN_BYTES) {
      await nextTurn();
      produced = 0;
    }
  }
  yield ']}';
}
