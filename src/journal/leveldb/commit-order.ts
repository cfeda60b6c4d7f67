/**
 * Which waiting appends go into the next group commit. Every append waiting used to go: a
 * small write arriving while one org's 1 MiB overwrite was being written then waited for that
 * write and for the next one, queued meanwhile, in the same batch as itself (two 1 MiB writes
 * and their fsyncs before a 100-byte answer). Now a large append (LARGE_APPEND_BYTES of values
 * or more) waits while small ones are waiting, at most PASSED_OVER_AT_MOST times, so no large
 * append is put off for long; an entity's appends keep their order (one passed over holds back
 * the ones after it), and a batch is never empty when appends wait.
 */
export const LARGE_APPEND_BYTES = 64 * 1024;
export const PASSED_OVER_AT_MOST = 2;

export interface OrderedAppend {
  /** The entity it appends to (its appends must be written in order). */
  readonly idKey: string;
  /** Bytes of values it carries. */
  readonly bytes: number;
  /** Batches it was left out of. */
  passedOver: number;
}

/** The appends for the next batch and those left waiting, each in arrival order. */
export function nextGroup<A extends OrderedAppend>(waiting: readonly A[]): { take: A[]; rest: A[] } {
  const isSmall = (append: A) => append.bytes < LARGE_APPEND_BYTES;
  if (!waiting.some(isSmall) || waiting.every(isSmall)) return { take: [...waiting], rest: [] };
  const take: A[] = [];
  const rest: A[] = [];
  const heldBack = new Set<string>();
  for (const append of waiting) {
    if (heldBack.has(append.idKey) || (!isSmall(append) && append.passedOver < PASSED_OVER_AT_MOST)) {
      heldBack.add(append.idKey);
      rest.push(append);
    } else take.push(append);
  }
  if (take.length === 0) return { take: [...waiting], rest: [] };
  for (const append of rest) append.passedOver++;
  return { take, rest };
}

/** Bytes of values the events carry. */
export function valueBytes(events: ReadonlyArray<{ readonly type: string; readonly value?: Uint8Array }>): number {
  let bytes = 0;
  for (const event of events) if (event.value !== undefined) bytes += event.value.byteLength;
  return bytes;
}
