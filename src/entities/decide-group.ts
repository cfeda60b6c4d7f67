import { CacheEvent, CacheState, DomainError, OperationResult, decide, draftOf, evolve, overCapacity } from '../domain';
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
  /** A cut or trim with evictions left for later groups: its asker is answered by the TrimToCapacity that ends them. */
  readonly continued?: boolean;
}

export interface DecidedGroup {
  /** Every admitted command's events, in order: one append. */
  readonly events: CacheEvent[];
  readonly replies: GroupReply[];
  /** The commands the group had no room for, from the first of them on (decided in the next group). */
  readonly later: Ask[];
  /**
   * Once the group is journaled, to the mailbox's tail (behind what arrived meanwhile, so the
   * cache's other clients are answered between the steps): the TrimToCapacity that goes on
   * with a cut's evictions, at most one group's worth each.
   */
  readonly next: Ask[];
}

const unanswered = () => undefined;

/**
 * Decides the commands of a group one after the other on a copy-on-write draft of `state`
 * (which is left untouched), each held to the ledger's limits. Throws only on a bug; the
 * caller then abandons the ledger.
 */
export function decideGroup(state: CacheState, group: readonly Ask[], ledger: GroupLedger, now: number): DecidedGroup {
  const draft = draftOf(state);
  const replies: GroupReply[] = [];
  const events: CacheEvent[] = [];
  const next: Ask[] = [];
  let trimmed = false;
  const trim = (ask: Ask): Ask => ({ command: { type: 'TrimToCapacity', evictAtMost: ledger.groupEvents, by: ask.command.by, device: ask.command.device ?? null }, options: ask.options, resolve: ask.resolve });
  for (let i = 0; i < group.length; i++) {
    const ask = group[i];
    const command = ledger.prepare(ask.command, ask.options?.quotaLimit);
    const decision = decide(draft, command, now);
    if (!decision.ok) {
      replies.push({ ask, error: decision.error, from: 0, count: 0 });
      continue;
    }
    const admitted = ledger.admit(command, decision, draft);
    if (admitted.ok === 'later') return { events, replies, later: group.slice(i), next };
    if (!admitted.ok) {
      replies.push({ ask, error: admitted.error, from: 0, count: 0 });
      continue;
    }
    const wasLive = draft.status === 'live';
    const bytesBefore = draft.bytes;
    for (const event of decision.events) evolve(draft, event);
    ledger.applied(wasLive, draft, bytesBefore);
    const cutting = ask.command.type === 'ChangeSettings' || ask.command.type === 'TrimToCapacity';
    // A cut or trim that left keys over the capacity goes on in the next group; its asker waits for the last step.
    const continued = cutting && overCapacity(draft);
    if (cutting) trimmed = true;
    if (continued) next.push(trim(ask));
    replies.push({ ask, from: events.length, count: decision.events.length, results: decision.results, aborted: decision.aborted, continued });
    for (const event of decision.events) events.push(event);
  }
  // A cache left over its capacity (a cut a crash ended part-way) is trimmed on its next writes' heels.
  if (!trimmed && overCapacity(draft)) next.push({ command: { type: 'TrimToCapacity', evictAtMost: ledger.groupEvents, by: 'system' }, options: undefined, resolve: unanswered });
  return { events, replies, later: [], next };
}

/** Answers each command of a journaled group: its refusal, or its own envelopes and results. */
export function answerGroup(replies: readonly GroupReply[], envelopes: readonly Envelope[]): void {
  for (const { ask, error, from, count, results, aborted, continued } of replies) {
    if (continued) continue;
    if (error) {
      ask.resolve({ ok: false, error });
      continue;
    }
    const reply = { ok: true as const, envelopes: envelopes.slice(from, from + count) };
    ask.resolve(results !== undefined ? { ...reply, results } : aborted ? { ...reply, aborted } : reply);
  }
}
