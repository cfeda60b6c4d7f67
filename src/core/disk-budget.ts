import { Principal } from '../auth/principal';
import { limitForLevel } from '../auth/service-level';
import { CacheCommand, DomainError, domainError } from '../domain';
import { InlineReadModels } from '../journal/inline-read-models';

/** What the disk budget holds orgs to (docs/security.md). */
export interface DiskBudgetLimits {
  /** Journal bytes one org may hold (ORG_DISK_BUDGET_BYTES); absent: by service level, or none. */
  readonly orgBytes?: number;
  /** Without ORG_DISK_BUDGET_BYTES but with the byte quota: (HISTORY_COMPACT_FACTOR + 2) × the quota + 64 MiB. */
  readonly orgBytesByLevel?: Readonly<Record<string, number>>;
  /** Journal bytes of every org together (DISK_BUDGET_BYTES); absent: no bound. */
  readonly totalBytes?: number;
}

/** Commands that only free bytes (their events are a few bytes each): always admitted, so an org over its budget can make room. */
const FREEING: ReadonlySet<CacheCommand['type']> = new Set(['DeleteKey', 'DeleteCache', 'Flush', 'ExpireKey']);
const FREEING_OPS: ReadonlySet<string> = new Set(['delete', 'flush', 'read', 'keys']);

function frees(command: CacheCommand): boolean {
  if (FREEING.has(command.type)) return true;
  return command.type === 'ApplyOperations' && command.ops.every((op) => FREEING_OPS.has(op.op));
}

/**
 * The disk budget: journal bytes per org (values, keys, descriptions, settings and every
 * overwrite the journal retains, counted by the LevelDB journal in each group commit's own
 * write, and on NATS by each node as it applies the stream) and in all. A command that would
 * add bytes to an org at or past its budget, or to a service past the total, is refused
 * before it reaches the entity: a clear 4xx, never the 503 of a full disk. Deletions always
 * pass. Synchronous once an org's figure is known; until then (after a start) it is read once,
 * whatever the number of commands asking, and they are judged when it lands.
 */
export class DiskBudget {
  /** Each org's read of its journal bytes in flight. */
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly readModels: InlineReadModels,
    private readonly limits: DiskBudgetLimits,
  ) {}

  get enabled(): boolean {
    return this.limits.orgBytes !== undefined || this.limits.orgBytesByLevel !== undefined || this.limits.totalBytes !== undefined;
  }

  /** The org budget of this principal (bytes), undefined: none. */
  orgBudget(principal: Principal): number | undefined {
    if (this.limits.orgBytes !== undefined) return this.limits.orgBytes;
    return this.limits.orgBytesByLevel === undefined ? undefined : limitForLevel(this.limits.orgBytesByLevel, principal.serviceLevel);
  }

  /**
   * The refusal of a command, if any: synchronous once the org's journal bytes are known, else
   * a promise that settles when the org's one read of them does. Every command of the org waits
   * for it, deletions too, so none overtakes a write asked before it.
   */
  refuse(principal: Principal, command: CacheCommand): DomainError | undefined | Promise<DomainError | undefined> {
    const budget = this.orgBudget(principal);
    if (budget !== undefined && this.readModels.journalBytesNow(principal.org) === undefined) {
      return this.figure(principal.org).then(() => this.judge(principal, command, budget));
    }
    return this.judge(principal, command, budget);
  }

  /** The org's one read of its journal bytes in flight; a failed read lets commands through (the journal reports the fault). */
  private figure(org: string): Promise<void> {
    let reading = this.reading.get(org);
    if (reading === undefined) {
      reading = this.readModels
        .journalBytes(org)
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => this.reading.delete(org));
      this.reading.set(org, reading);
    }
    return reading;
  }

  private judge(principal: Principal, command: CacheCommand, budget: number | undefined): DomainError | undefined {
    if (frees(command)) return undefined;
    const total = this.limits.totalBytes;
    if (total !== undefined) {
      const used = this.readModels.totalJournalBytesNow();
      if (used !== undefined && used >= total) {
        return domainError('DISK_BUDGET_EXCEEDED', `the service's journal holds ${used} bytes; DISK_BUDGET_BYTES is ${total}: nothing more is written until room is made (deletions are taken)`);
      }
    }
    if (budget === undefined) return undefined;
    const used = this.readModels.journalBytesNow(principal.org);
    if (used !== undefined && used >= budget) {
      return domainError(
        'DISK_BUDGET_EXCEEDED',
        `the organisation's journal holds ${used} bytes (values, keys, descriptions, settings and retained history); its disk budget (ORG_DISK_BUDGET_BYTES) is ${budget}: delete or flush to make room`,
      );
    }
    return undefined;
  }

  /** Whether the service-wide budget is spent (for /health/ready). */
  totalSpent(): { used: number; budget: number } | undefined {
    const budget = this.limits.totalBytes;
    const used = this.readModels.totalJournalBytesNow();
    return budget !== undefined && used !== undefined && used >= budget ? { used, budget } : undefined;
  }
}
