/**
 * Redis's glob matching (util.c `stringmatchlen`, Redis 7), over bytes as Redis does: `*`,
 * `?` (one byte), `[abc]`, `[^a]`, `[a-z]`, `\` escapes. Ported branch by branch, including
 * the guard against abusive patterns (nesting) and the early stop after a failed `*`, so a
 * pattern of many stars costs what it costs in Redis, not exponential time. Bytes past the
 * end read as 0, as C's terminator does.
 */
export function globMatch(pattern: Uint8Array, string: Uint8Array): boolean {
  const skip = { longer: false };
  return match(pattern, 0, pattern.length, string, 0, string.length, skip, 0);
}

function match(p: Uint8Array, pi: number, pLen: number, s: Uint8Array, si: number, sLen: number, skip: { longer: boolean }, nesting: number): boolean {
  if (nesting > 1000) return false;
  const pat = (i: number) => (i < p.length ? p[i] : 0);
  const str = (i: number) => (i < s.length ? s[i] : 0);
  while (pLen > 0 && sLen > 0) {
    switch (pat(pi)) {
      case 0x2a /* * */: {
        while (pLen > 1 && pat(pi + 1) === 0x2a) {
          pi++;
          pLen--;
        }
        if (pLen === 1) return true;
        while (sLen > 0) {
          if (match(p, pi + 1, pLen - 1, s, si, sLen, skip, nesting + 1)) return true;
          if (skip.longer) return false;
          si++;
          sLen--;
        }
        skip.longer = true;
        return false;
      }
      case 0x3f /* ? */:
        si++;
        sLen--;
        break;
      case 0x5b /* [ */: {
        pi++;
        pLen--;
        const not = pat(pi) === 0x5e;
        if (not) {
          pi++;
          pLen--;
        }
        let matched = false;
        for (;;) {
          if (pat(pi) === 0x5c && pLen >= 2) {
            pi++;
            pLen--;
            if (pat(pi) === str(si)) matched = true;
          } else if (pat(pi) === 0x5d /* ] */) {
            break;
          } else if (pLen === 0) {
            pi--;
            pLen++;
            break;
          } else if (pLen >= 3 && pat(pi + 1) === 0x2d /* - */) {
            // Redis compares ranges as C chars, signed on the platforms it runs on: bytes over 0x7f are negative.
            let start = signed(pat(pi));
            let end = signed(pat(pi + 2));
            const c = signed(str(si));
            if (start > end) [start, end] = [end, start];
            pi += 2;
            pLen -= 2;
            if (c >= start && c <= end) matched = true;
          } else if (pat(pi) === str(si)) {
            matched = true;
          }
          pi++;
          pLen--;
        }
        if (not) matched = !matched;
        if (!matched) return false;
        si++;
        sLen--;
        break;
      }
      default:
        // `\x` matches x literally (a trailing `\` matches itself).
        if (pat(pi) === 0x5c && pLen >= 2) {
          pi++;
          pLen--;
        }
        if (pat(pi) !== str(si)) return false;
        si++;
        sLen--;
        break;
    }
    pi++;
    pLen--;
    if (sLen === 0) {
      while (pLen > 0 && pat(pi) === 0x2a) {
        pi++;
        pLen--;
      }
      break;
    }
  }
  return pLen === 0 && sLen === 0;
}

const signed = (byte: number): number => (byte << 24) >> 24;

/** A matcher for many keys: `*` alone matches all without encoding each key. */
export function keyMatcher(pattern: Buffer | undefined): (key: string) => boolean {
  if (pattern === undefined || (pattern.length === 1 && pattern[0] === 0x2a)) return () => true;
  return (key) => globMatch(pattern, Buffer.from(key, 'utf8'));
}

/**
 * The bytes every string `pattern` matches starts with: the pattern up to its first `*`, `?`
 * or `[`, with `\x` read as x (as `globMatch` reads it). A scan over keys in byte order seeks
 * to them and stops past them instead of looking at every key.
 */
export function globLiteralPrefix(pattern: Uint8Array): Buffer {
  const out: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const byte = pattern[i];
    if (byte === 0x2a || byte === 0x3f || byte === 0x5b) break;
    // A trailing `\` matches itself; `\x` matches x.
    out.push(byte === 0x5c && i + 1 < pattern.length ? pattern[++i] : byte);
  }
  return Buffer.from(out);
}
