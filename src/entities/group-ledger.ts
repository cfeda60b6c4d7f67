import { CacheCommand, CacheState, Decision, DomainError, domainError } from '../domain';
import { OrgCaches } from './org-caches';
import { OrgQuota } from './org-quota';

/** The limits a command is held to once it is decided (they need its events or the cache's state). */
export interface DecisionLimits {
  readonly quota: OrgQuota;
  /** Live caches per org (MAX_CACHES_PER_ORG); absent: no limit. */
  readonly caches?: OrgCaches;
  /**
   * Events one command may decide, and one commit group may hold (MAX_EVENTS_PER_COMMAND);
   * absent: no limit. A group is one synchronous decide, encode and apply, so its size is how
   * long every other org waits, however many commands were grouped.
   */
  readonly maxEvents?: number;
  /** Events one commit group may hold (at most maxEvents); absent: MAX_EVENTS_PER_GROUP. */
  readonly maxGroupEvents?: number;
  /** Bytes of values one commit group may hold; absent: MAX_BYTES_PER_GROUP. */
  readonly maxGroupBytes?: number;
}

/**
 * A commit group is decided, encoded, written and applied in synchronous steps on the event
 * loop, each proportional to its events and bytes: every other org waits that long. A capacity
 * cut of 10,000 keys in one group held the loop ~1.4 s (~0.1 ms per event with its read-model
 * rows, profiled): 256 events is a few tens of ms, about the canary's quiet p99 in the
 * noisy-neighbour benchmark, and one fsync per 256 events costs a large batch little. One
 * command larger than this (up to MAX_EVENTS_PER_COMMAND) still goes alone in its group.
 */
export const MAX_EVENTS_PER_GROUP = 256;
/** Bytes of values (the largest value, MAX_VALUE_BYTES' default, still goes alone in its group). */
export const MAX_BYTES_PER_GROUP = 4 * 1024 * 1024;

/** What the ledger says of a decided command. */
export type Admitted = { readonly ok: true } | { readonly ok: false; readonly error: DomainError } | { readonly ok: 'later' };

const ADMITTED: Admitted = { ok: true };
const LATER: Admitted = { ok: 'later' };

const QUOTA_COMMANDS: ReadonlySet<CacheCommand['type']> = new Set(['SetValue', 'Increment', 'RestoreTo', 'ApplyOperations']);

/**
 * The books of one commit group: the org bytes and cache slots its decisions hold until the
 * group is journaled (so two groups of one org cannot both take the last byte or slot), and
 * the group's events against MAX_EVENTS_PER_COMMAND. Settled once: `committed` when the
 * journal took the group, `abandoned` when it did not.
 */
export class GroupLedger {
  private reserved = 0;
  private slotsTaken = 0;
  private slotsFreed = 0;
  private events = 0;
  private bytes = 0;
  /** Events one group may hold. */
  readonly groupEvents: number;
  private readonly groupBytes: number;

  constructor(
    private readonly org: string,
    private readonly limits: DecisionLimits,
  ) {
    this.groupEvents = Math.min(limits.maxEvents ?? Infinity, limits.maxGroupEvents ?? MAX_EVENTS_PER_GROUP);
    this.groupBytes = limits.maxGroupBytes ?? MAX_BYTES_PER_GROUP;
  }

  /**
   * The command with what the shell adds written in: the org's remaining byte quota, for the
   * domain to hold it to; for a capacity cut or trim, the evictions one group has room for.
   */
  prepare(command: CacheCommand, quotaLimit: number | undefined): CacheCommand {
    if (command.type === 'ChangeSettings') return { ...command, evictAtMost: Math.max(0, this.groupEvents - 1) };
    if (command.type === 'TrimToCapacity') return { ...command, evictAtMost: Math.max(1, this.groupEvents) };
    if (quotaLimit === undefined || !QUOTA_COMMANDS.has(command.type)) return command;
    return { ...command, quotaRemaining: Math.max(0, quotaLimit - this.limits.quota.usedBy(this.org)) } as CacheCommand;
  }

  /**
   * Holds a decision to the limits: refused (too many events for one command, no cache slot
   * left), admitted (its slot now taken), or `later`: the group is full, so it and the
   * commands after it wait for the next group.
   */
  admit(command: CacheCommand, decision: Decision & { ok: true }, draft: CacheState): Admitted {
    const count = decision.events.length;
    const max = this.limits.maxEvents;
    if (max !== undefined && count > max) {
      const message = `${command.type} would append ${count} events; MAX_EVENTS_PER_COMMAND is ${max} (flush, or change the cache in smaller steps)`;
      return { ok: false, error: domainError('TOO_MANY_EVENTS', message) };
    }
    let bytes = 0;
    for (const event of decision.events) if (event.type === 'Set') bytes += event.value.byteLength;
    if (this.events > 0 && (this.events + count > this.groupEvents || this.bytes + bytes > this.groupBytes)) return LATER;
    const caches = this.limits.caches;
    if (caches !== undefined && draft.status !== 'live' && decision.events.some((event) => event.type === 'Created')) {
      if (!caches.tryTake(this.org)) {
        return { ok: false, error: domainError('CACHE_LIMIT_REACHED', `the organisation has ${caches.limit} caches (MAX_CACHES_PER_ORG); delete one first`) };
      }
      this.slotsTaken++;
    }
    this.events += count;
    this.bytes += bytes;
    return ADMITTED;
  }

  /** An admitted decision was applied to the draft: hold the bytes it adds, note a cache it deleted. */
  applied(wasLive: boolean, draft: CacheState, bytesBefore: number): void {
    if (wasLive && draft.status !== 'live') this.slotsFreed++;
    const delta = draft.bytes - bytesBefore;
    if (delta > 0) {
      this.limits.quota.reserve(this.org, delta);
      this.reserved += delta;
    }
  }

  /** The journal took the group: its org total now holds the bytes; deleted caches free their slots. */
  committed(): void {
    this.limits.quota.release(this.org, this.reserved);
    this.limits.caches?.release(this.org, this.slotsFreed);
  }

  /** Nothing of the group was journaled: give back what it held. */
  abandoned(): void {
    this.limits.quota.release(this.org, this.reserved);
    this.limits.caches?.release(this.org, this.slotsTaken);
  }
}
