import { EntityRef } from '../keys';

/**
 * Subject layout of the NATS journal: `<stream>.ev.<org>.<cache>`, each name one token.
 *
 * A token is `n` + the base64url of the name's UTF-8 bytes. The base64url alphabet
 * (`A-Z a-z 0-9 - _`) holds no `.`, `*`, `>` or whitespace, so no name can add a token or
 * a wildcard; the `n` keeps an empty name a non-empty token; and because org and cache are
 * separate tokens, no two (org, cache) pairs share a subject. A 255-character name of
 * 4-byte characters is a 1,361-character token: two of them stay well inside the server's
 * 4 KiB control line.
 */
export const encodeToken = (name: string): string => `n${Buffer.from(name, 'utf8').toString('base64url')}`;

export function decodeToken(token: string): string {
  if (token.charCodeAt(0) !== 0x6e /* n */) throw new RangeError(`not a cachelog subject token: ${token.slice(0, 40)}`);
  return Buffer.from(token.slice(1), 'base64url').toString('utf8');
}

export class Subjects {
  /** Every event of every cache (the stream's subject filter). */
  readonly all: string;
  private readonly prefix: string;
  private readonly bySubject = new Map<string, EntityRef>();

  constructor(stream: string) {
    this.prefix = `${stream}.ev.`;
    this.all = `${this.prefix}>`;
  }

  of(ref: EntityRef): string {
    return `${this.prefix}${encodeToken(ref.org)}.${encodeToken(ref.name)}`;
  }

  /** The ref of an event subject (decoded once per subject while the memo is small). */
  refOf(subject: string): EntityRef {
    let ref = this.bySubject.get(subject);
    if (ref !== undefined) return ref;
    const tokens = subject.slice(this.prefix.length).split('.');
    if (!subject.startsWith(this.prefix) || tokens.length !== 2) throw new RangeError(`not a cachelog event subject: ${subject.slice(0, 80)}`);
    ref = { org: decodeToken(tokens[0]), name: decodeToken(tokens[1]) };
    if (this.bySubject.size >= 100_000) this.bySubject.clear();
    this.bySubject.set(subject, ref);
    return ref;
  }

  /** A KV key for the entity (KV keys take the same token alphabet, `.` separating). */
  kvKey(ref: EntityRef): string {
    return `${encodeToken(ref.org)}.${encodeToken(ref.name)}`;
  }
}
