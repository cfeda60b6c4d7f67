import { CacheEvent, CacheState, DomainError, OperationResult, decide, draftOf, evolve } from '../domain';
import { Envelope } from '../journal/journal';
import { Ask } from './entity-context';
import { GroupLedger } from './group-ledger';

interface GroupReply {
  readonly ask: Ask;
  readonly error?: DomainError;
  /** Where the command's events are in the group's. */
  readonly from: number;
  readonly count: number;
  readonly results?: readonly OperationResult[];
  readonly aborted?: boolean;
}

export interface DecidedGroup {
  /** Every admitted command's events, in order: one append. */
  readonly events: CacheEvent[];
  readonly replies: GroupReply[];
  /** The commands the group had no room for, from the first of them on (decided in the next group). */
  readonly later: Ask[];
}

/**
 * Decides the commands of a group one after the other on a copy-on-write draft of `state`
 * (which is left untouched), each held to the ledger's limits. Throws only on a bug; the
 * caller then abandons the ledger.
 */
export function decideGroup(state: CacheState, group: readonly Ask[], ledger: GroupLedger, now: number): DecidedGroup {
  const draft = draftOf(state);
  const replies: GroupReply[] = [];
  const events: CacheEvent[] = [];
  for (let i = 0; i < group.length; i++) {
    const ask = group[i];
    const command = ledger.prepare(ask.command, ask.options?.quotaLimit);
    const decision = decide(draft, command, now);
    if (!decision.ok) {
      replies.push({ ask, error: decision.error, from: 0, count: 0 });
      continue;
    }
    const admitted = ledger.admit(command, decision, draft);
    if (admitted.ok === 'later') return { events, replies, later: group.slice(i) };
    if (!admitted.ok) {
      replies.push({ ask, error: admitted.error, from: 0, count: 0 });
      continue;
    }
    const wasLive = draft.status === 'live';
    const bytesBefore = draft.bytes;
    for (const event of decision.events) evolve(draft, event);
    ledger.applied(wasLive, draft, bytesBefore);
    replies.push({ ask, from: events.length, count: decision.events.length, results: decision.results, aborted: decision.aborted });
    for (const event of decision.events) events.push(event);
  }
  return { events, replies, later: [] };
}

/** Answers each command of a journaled group: its refusal, or its own envelopes and results. */
export function answerGroup(replies: readonly GroupReply[], envelopes: readonly Envelope[]): void {
  for (const { ask, error, from, count, results, aborted } of replies) {
    if (error) {
      ask.resolve({ ok: false, error });
      continue;
    }
    const reply = { ok: true as const, envelopes: envelopes.slice(from, from + count) };
    ask.resolve(results !== undefined ? { ...reply, results } : aborted ? { ...reply, aborted } : reply);
  }
}
