import { DomainError, OperationResult, CacheCommand } from '../domain';
import { Envelope, Journal, JournalUnavailableError } from '../journal/journal';
import { EntityRef } from '../journal/keys';
import { SnapshotStore } from '../journal/snapshot-store';
import { ExpiryScheduler } from './expiry-scheduler';
import { OrgCaches } from './org-caches';
import { OrgQuota } from './org-quota';

/** What an entity answers, what it is asked with, and what it runs on. */

/**
 * A command group that failed inside the entity for a reason that is neither a domain rejection
 * nor a journal fault (a bug, a resource exhausted): its askers get this, the process goes on.
 */
export class CommandFailedError extends Error {
  readonly code = 'COMMAND_FAILED';
  constructor(readonly cause: unknown) {
    super('the command could not be carried out; nothing was changed');
  }
}

export type Reply =
  | {
      readonly ok: true;
      readonly envelopes: readonly Envelope[];
      /** `ApplyOperations`: one result per operation (see decide's Decision). */
      readonly results?: readonly OperationResult[];
      /** `ApplyOperations`: a watched key had changed; nothing was decided. */
      readonly aborted?: boolean;
    }
  | { readonly ok: false; readonly error: DomainError | JournalUnavailableError | CommandFailedError };

export interface AskOptions {
  /** The org's byte quota for this request (by the token's service level); undefined: none. */
  readonly quotaLimit?: number;
}

export interface Ask {
  readonly command: CacheCommand;
  readonly options: AskOptions | undefined;
  readonly resolve: (reply: Reply) => void;
}

export interface EntityContext {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly scheduler: ExpiryScheduler;
  readonly quota: OrgQuota;
  readonly now: () => number;
  readonly snapshotEvery: number;
  /** Events one command, and one commit group, may append (MAX_EVENTS_PER_COMMAND); absent: no limit. */
  readonly maxEventsPerCommand?: number;
  /** Snapshot once this many bytes were journaled since the last one (SNAPSHOT_BYTES); see SnapshotPolicy. */
  readonly snapshotBytes?: number;
  /** Live caches per org (MAX_CACHES_PER_ORG); absent: no limit. */
  readonly caches?: OrgCaches;
  /** Told of recoveries and snapshots (the metrics). */
  readonly observer?: EntityObserver;
  /**
   * A shared journal (NATS): how long (ms of wall time) a group another node beat to the cache
   * keeps being decided again on the caught-up state before it answers 503 JOURNAL_CONTENDED
   * (NATS_TIMEOUT_MS; see AppendContention).
   */
  readonly contentionMs?: number;
  /** After a group, the cache is not live (deleted, or a command that would create it was refused): the registry may unload it. */
  readonly notLive?: (ref: EntityRef) => void;
}

export interface EntityObserver {
  recovered(seconds: number): void;
  snapshotWritten(): void;
}

export class SequenceGapError extends Error {
  readonly code = 'JOURNAL_SEQUENCE_GAP';
}
