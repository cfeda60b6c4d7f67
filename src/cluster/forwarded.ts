import { Packr } from 'msgpackr';
import { CacheCommand, DomainError } from '../domain';
import { CommandFailedError, Reply } from '../entities/cache-entity';
import { JournalContendedError, JournalUnavailableError } from '../journal/journal';
import { EntityRef, encodeEntityId } from '../journal/keys';

/**
 * The wire form of a command forwarded to its cache's owner and of the owner's answer:
 * MessagePack (values stay bytes, bigints stay bigints), never JSON. The first element is a
 * version, so a node of another version answers UNREADABLE (nothing applied) instead of
 * guessing, and the sender runs the command itself.
 */
const packr = new Packr({ useRecords: false, variableMapSize: true });
const VERSION = 2;

export interface Forwarded {
  readonly ref: EntityRef;
  readonly command: CacheCommand;
  readonly quotaLimit: number | undefined;
}

/** What the owner answers: its registry's reply, or why it ran nothing (or cannot send the reply). */
export const AnswerStatus = {
  Reply: 0,
  /** The owner is leaving or stopped: nothing was applied, route again. */
  Gone: 1,
  /** The owner could not read the request (another version): nothing was applied. */
  Unreadable: 2,
  /** Applied, but the reply does not fit one NATS message. */
  TooLarge: 3,
} as const;
type Status = (typeof AnswerStatus)[keyof typeof AnswerStatus];

export type Answer = { readonly status: typeof AnswerStatus.Reply; readonly reply: Reply } | { readonly status: Exclude<Status, typeof AnswerStatus.Reply> };

export function encodeForwarded(ref: EntityRef, command: CacheCommand, quotaLimit: number | undefined): Uint8Array {
  return packr.pack([VERSION, ref.org, ref.name, command, quotaLimit ?? null]);
}

/** The forwarded command, or undefined when it is not one this version reads. */
export function decodeForwarded(bytes: Uint8Array): Forwarded | undefined {
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 5 || decoded[0] !== VERSION) return undefined;
  const [, org, name, command, quotaLimit] = decoded as [number, unknown, unknown, unknown, unknown];
  if (typeof org !== 'string' || typeof name !== 'string' || typeof command !== 'object' || command === null || typeof (command as { type?: unknown }).type !== 'string') return undefined;
  if (quotaLimit !== null && typeof quotaLimit !== 'number') return undefined;
  return { ref: { org, name }, command: command as CacheCommand, quotaLimit: quotaLimit ?? undefined };
}

type ErrorKind = 'domain' | 'unavailable' | 'contended' | 'failed';

export function encodeReply(reply: Reply): Uint8Array {
  if (reply.ok) {
    const envelopes = reply.envelopes.map((e) => [e.seq, e.offset, e.event]);
    return packr.pack([AnswerStatus.Reply, 1, envelopes, reply.results ?? null, reply.aborted === true]);
  }
  const error = reply.error;
  const kind: ErrorKind =
    error instanceof JournalContendedError ? 'contended' : error instanceof JournalUnavailableError ? 'unavailable' : error instanceof CommandFailedError ? 'failed' : 'domain';
  return packr.pack([AnswerStatus.Reply, 0, kind, error.code, error.message]);
}

export const encodeStatus = (status: Exclude<Status, typeof AnswerStatus.Reply>): Uint8Array => packr.pack([status]);

/**
 * Several forwarded commands for one owner in one NATS message (those that arrived in the same
 * turn of the event loop), each encoded on its own: one request and one reply for all of them.
 */
export const encodeBatch = (items: readonly Uint8Array[]): Uint8Array => packr.pack([VERSION, items]);

/** The batch's items (each to decode with decodeForwarded), or undefined when it is not one this version reads. */
export function decodeBatch(bytes: Uint8Array): Uint8Array[] | undefined {
  try {
    const decoded = packr.unpack(bytes) as unknown;
    if (!Array.isArray(decoded) || decoded[0] !== VERSION || !Array.isArray(decoded[1])) return undefined;
    return (decoded[1] as unknown[]).every((item) => item instanceof Uint8Array) ? (decoded[1] as Uint8Array[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The owner's answers to a batch, in its order: each an encoded answer, or one status for all. */
export const encodeAnswers = (answers: readonly Uint8Array[]): Uint8Array => packr.pack([AnswerStatus.Reply, answers]);

export function decodeAnswers(bytes: Uint8Array): Uint8Array[] | Exclude<Status, typeof AnswerStatus.Reply> {
  const decoded = packr.unpack(bytes) as unknown[];
  return decoded[0] === AnswerStatus.Reply && Array.isArray(decoded[1]) ? (decoded[1] as Uint8Array[]) : (decoded[0] as Exclude<Status, typeof AnswerStatus.Reply>);
}

/** The owner's answer, as the reply its registry gave (envelopes carry `ref` and its entity id again). */
export function decodeAnswer(bytes: Uint8Array, ref: EntityRef): Answer {
  const decoded = packr.unpack(bytes) as unknown[];
  const status = decoded[0] as Status;
  if (status !== AnswerStatus.Reply) return { status };
  if (decoded[1] === 1) {
    const entityId = encodeEntityId(ref);
    const envelopes = (decoded[2] as Array<[number, number, never]>).map(([seq, offset, event]) => ({ ref, entityId, seq, offset, event }));
    const reply: { ok: true; envelopes: typeof envelopes; results?: never; aborted?: boolean } = { ok: true, envelopes };
    if (decoded[3] !== null) reply.results = decoded[3] as never;
    if (decoded[4] === true) reply.aborted = true;
    return { status, reply };
  }
  const [, , kind, code, message] = decoded as [number, number, ErrorKind, string, string];
  return { status, reply: { ok: false, error: errorOf(kind, code, message, ref) } };
}

function errorOf(kind: ErrorKind, code: string, message: string, ref: EntityRef): Exclude<Reply, { ok: true }>['error'] {
  switch (kind) {
    case 'contended': {
      const error = new JournalContendedError(ref, 0);
      error.message = message;
      return error;
    }
    case 'unavailable':
      return new JournalUnavailableError(undefined, message);
    case 'failed':
      return new CommandFailedError(new Error(message));
    default:
      return { code, message } as DomainError;
  }
}
