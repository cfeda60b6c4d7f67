import { EntityRef } from '../journal/keys';

/**
 * Rendezvous (highest-random-weight) hashing: the owner of a cache is the member whose weight
 * for it is highest. Every node that sees the same members computes the same owner with no
 * state per cache, and a member leaving moves only the caches it owned (each to the member
 * that weighed second for it); one joining takes about 1/N of the caches from the others.
 * Placement only: a wrong or stale answer costs contention, never correctness (the append
 * fence decides).
 */

/** FNV-1a over UTF-16 code units: fast, and uniform enough once mixed. */
function fnv1a(text: string, hash = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** MurmurHash3's finalizer: every input bit moves every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A cache's key for weighing: org and name length-prefixed (no two pairs spell the same text). */
export function cacheHash(ref: EntityRef): number {
  return mix(fnv1a(ref.name, fnv1a(`${ref.org.length}:${ref.org}`)));
}

export const memberHash = (id: string): number => mix(fnv1a(id));

/** A member list prepared for weighing (its ids' hashes computed once per membership change). */
export class Members {
  readonly hashes: Uint32Array;

  constructor(readonly ids: readonly string[]) {
    this.hashes = Uint32Array.from(ids, memberHash);
  }

  /** The owner of `ref`; undefined when there is no member. Ties (vanishingly rare) go to the smaller id. */
  ownerOf(ref: EntityRef): string | undefined {
    const key = cacheHash(ref);
    let best = -1;
    let owner: string | undefined;
    for (let i = 0; i < this.ids.length; i++) {
      const weight = mix(key ^ this.hashes[i]);
      if (weight > best || (weight === best && this.ids[i] < owner!)) {
        best = weight;
        owner = this.ids[i];
      }
    }
    return owner;
  }
}
