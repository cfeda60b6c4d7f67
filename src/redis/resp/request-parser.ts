/**
 * Reads Redis requests from a byte stream: RESP arrays of bulk strings (`*2\r\n$3\r\nGET\r\n…`)
 * and inline commands (`PING\r\n`, split as redis-cli and Redis do, quotes and escapes
 * included). Written for the server side rather than taken from `redis-parser`, which parses
 * replies: it takes error, integer and nested-array frames a request may not hold, has no
 * inline commands, and learns a bulk's length only to wait for it. Here every length is
 * checked the moment its header arrives, with Redis's own protocol errors, so no byte
 * sequence makes the process buffer more than the bounds below.
 */
export interface ParserLimits {
  /** Arguments of one command (Redis: 1024 * 1024). */
  readonly maxMultibulk: number;
  /** Bytes of one argument (MAX_VALUE_BYTES, plus room for keys is not needed: values are the largest). */
  readonly maxBulk: number;
  /** Bytes of one inline command (Redis: 64 KiB). */
  readonly maxInline: number;
  /** Lengths before AUTH (Redis: 10 arguments, 16 KiB each): an anonymous client cannot make the server buffer much. */
  readonly unauthenticatedMultibulk: number;
  readonly unauthenticatedBulk: number;
}

export class ProtocolError extends Error {}

const CR = 0x0d;
const LF = 0x0a;
/** An argument this large is filled in place instead of kept as chunks. */
const BIG_ARG = 32 * 1024;

export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private args: Buffer[] | null = null;
  private remaining = 0;
  private bulkLength = -1;
  /** A big argument being filled from incoming chunks. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(
    private readonly limits: ParserLimits,
    private readonly authenticated: () => boolean,
  ) {}

  /** Bytes held for a command not yet complete (the query buffer). */
  get buffered(): number {
    let n = this.buf.length - this.pos + this.bigFilled;
    if (this.args !== null) for (const a of this.args) n += a.length;
    return n;
  }

  /**
   * Feeds bytes; returns the commands they complete and, when they break the protocol, the
   * error to answer after those (the connection then closes; the parser is not used again).
   */
  push(chunk: Buffer): { commands: Buffer[][]; error?: string } {
    const out: Buffer[][] = [];
    try {
      this.consume(chunk, out);
    } catch (caught) {
      if (!(caught instanceof ProtocolError)) throw caught;
      return { commands: out, error: caught.message };
    }
    return { commands: out };
  }

  private consume(chunk: Buffer, out: Buffer[][]): void {
    if (this.big !== null) {
      const take = Math.min(chunk.length, this.big.length - this.bigFilled);
      chunk.copy(this.big, this.bigFilled, 0, take);
      this.bigFilled += take;
      chunk = chunk.subarray(take);
      if (this.bigFilled < this.big.length) return;
      this.finishArg(this.big.subarray(0, this.big.length - 2), out);
      this.big = null;
      this.bigFilled = 0;
    }
    if (chunk.length > 0) {
      this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
      this.pos = 0;
    }
    this.parse(out);
    if (this.pos >= this.buf.length) {
      this.buf = Buffer.alloc(0);
      this.pos = 0;
    }
  }

  private parse(out: Buffer[][]): void {
    const buf = this.buf;
    for (;;) {
      if (this.pos >= buf.length) return;
      if (this.args === null) {
        if (buf[this.pos] === 0x2a /* * */) {
          const line = this.line(32, 'ERR Protocol error: too big mbulk count string');
          if (line === undefined) return;
          const n = parseLength(line);
          const max = this.authenticated() ? this.limits.maxMultibulk : this.limits.unauthenticatedMultibulk;
          if (n === undefined || n > max) throw new ProtocolError(this.authenticated() || n === undefined ? 'ERR Protocol error: invalid multibulk length' : 'ERR Protocol error: unauthenticated multibulk length');
          if (n <= 0) continue;
          this.args = [];
          this.remaining = n;
          continue;
        } else {
          const line = this.line(this.limits.maxInline, 'ERR Protocol error: too big inline request', true);
          if (line === undefined) return;
          const args = splitInline(line);
          if (args === undefined) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
          if (args.length > 0) {
            out.push(args);
            if (!this.authenticated()) return;
          }
          continue;
        }
      }
      if (this.bulkLength < 0) {
        if (buf[this.pos] !== 0x24 /* $ */) {
          throw new ProtocolError(`ERR Protocol error: expected '$', got '${printable(buf[this.pos])}'`);
        }
        const line = this.line(32, 'ERR Protocol error: too big bulk count string');
        if (line === undefined) return;
        const n = parseLength(line);
        const max = this.authenticated() ? this.limits.maxBulk : this.limits.unauthenticatedBulk;
        if (n === undefined || n < 0 || n > max) throw new ProtocolError(this.authenticated() || n === undefined || n < 0 ? 'ERR Protocol error: invalid bulk length' : 'ERR Protocol error: unauthenticated bulk length');
        this.bulkLength = n;
      }
      const available = buf.length - this.pos;
      if (available >= this.bulkLength + 2) {
        // A copy: the argument may be kept as a value, and must not keep the whole chunk alive.
        const arg = Buffer.from(buf.subarray(this.pos, this.pos + this.bulkLength));
        this.pos += this.bulkLength + 2;
        this.finishArg(arg, out);
        // Before AUTH one command at a time: the next one is read with the limits AUTH sets.
        if (this.args === null && !this.authenticated()) return;
        continue;
      }
      if (this.bulkLength >= BIG_ARG) {
        this.big = Buffer.allocUnsafe(this.bulkLength + 2);
        buf.copy(this.big, 0, this.pos);
        this.bigFilled = available;
        this.pos = buf.length;
      }
      return;
    }
  }

  private finishArg(arg: Buffer, out: Buffer[][]): void {
    this.args!.push(arg);
    this.bulkLength = -1;
    if (--this.remaining === 0) {
      out.push(this.args!);
      this.args = null;
    }
  }

  /** True when a complete command may be waiting in the buffer (the parser stops after each one before AUTH). */
  get hasBuffered(): boolean {
    return this.pos < this.buf.length;
  }

  /** The bytes up to the next CRLF (LF alone for inline), header byte excluded for RESP; undefined: not complete yet. */
  private line(max: number, tooBig: string, inline = false): Buffer | undefined {
    const buf = this.buf;
    const end = buf.indexOf(LF, this.pos);
    if (end < 0) {
      if (buf.length - this.pos > max) throw new ProtocolError(tooBig);
      return undefined;
    }
    if (end - this.pos > max) throw new ProtocolError(tooBig);
    const start = inline ? this.pos : this.pos + 1;
    const stop = end > start && buf[end - 1] === CR ? end - 1 : end;
    this.pos = end + 1;
    return buf.subarray(start, stop);
  }
}

function printable(byte: number | undefined): string {
  if (byte === undefined) return '';
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** A decimal length (Redis's string2ll): undefined when not one. */
function parseLength(bytes: Buffer): number | undefined {
  if (bytes.length === 0 || bytes.length > 20) return undefined;
  const text = bytes.toString('latin1');
  if (!/^-?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);

/** Redis's sdssplitargs: words, "double quotes" with escapes (\n \r \t \b \a \xHH), 'single quotes'; undefined when unbalanced. */
export function splitInline(line: Buffer): Buffer[] | undefined {
  const args: Buffer[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return args;
    const bytes: number[] = [];
    let inDq = false;
    let inSq = false;
    for (;;) {
      const c = i < n ? line[i] : -1;
      if (inDq) {
        if (c === -1) return undefined;
        if (c === 0x5c && i + 3 < n && line[i + 1] === 0x78 && hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0) {
          bytes.push(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]));
          i += 3;
        } else if (c === 0x5c && i + 1 < n) {
          i++;
          const e = line[i];
          bytes.push(e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : e === 0x62 ? 0x08 : e === 0x61 ? 0x07 : e);
        } else if (c === 0x22) {
          if (i + 1 < n && !isSpace(line[i + 1])) return undefined;
          inDq = false;
          i++;
          break;
        } else bytes.push(c);
      } else if (inSq) {
        if (c === -1) return undefined;
        if (c === 0x5c && i + 1 < n && line[i + 1] === 0x27) {
          i++;
          bytes.push(0x27);
        } else if (c === 0x27) {
          if (i + 1 < n && !isSpace(line[i + 1])) return undefined;
          inSq = false;
          i++;
          break;
        } else bytes.push(c);
      } else {
        if (c === -1 || isSpace(c)) break;
        if (c === 0x22) inDq = true;
        else if (c === 0x27) inSq = true;
        else bytes.push(c);
      }
      i++;
    }
    args.push(Buffer.from(bytes));
  }
}
