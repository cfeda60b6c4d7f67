import { InlineReadModels } from '../journal/inline-read-models';

/**
 * Exact per-org byte accounting across all of an org's caches, loaded or not: the
 * committed total is the journal's inline org-bytes row (updated in the same write as the
 * events, before an append resolves), plus the growth of writes not yet committed. Growth
 * is reserved synchronously before a write is journaled (so two caches cannot both take
 * the last bytes) and handed back once the write is committed (the total then holds it)
 * or failed.
 */
export class OrgQuota {
  private readonly reserved = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(private readonly readModels: InlineReadModels) {}

  /** Makes `usedBy(org)` answerable synchronously (one read of the org's row, once). */
  load(org: string): Promise<void> {
    if (this.readModels.orgBytesNow(org) !== undefined) return Promise.resolve();
    let loading = this.loading.get(org);
    if (loading === undefined) {
      loading = this.readModels.orgBytes(org).then(() => undefined);
      this.loading.set(org, loading);
      void loading.finally(() => this.loading.delete(org)).catch(() => undefined);
    }
    return loading;
  }

  /** Committed bytes plus reserved growth; the org must have been loaded. */
  usedBy(org: string): number {
    return (this.readModels.orgBytesNow(org) ?? 0) + (this.reserved.get(org) ?? 0);
  }

  reserve(org: string, bytes: number): void {
    if (bytes !== 0) this.reserved.set(org, (this.reserved.get(org) ?? 0) + bytes);
  }

  /** Hands reserved growth back (its write committed, or failed). */
  release(org: string, bytes: number): void {
    if (bytes === 0) return;
    const left = (this.reserved.get(org) ?? 0) - bytes;
    if (left === 0) this.reserved.delete(org);
    else this.reserved.set(org, left);
  }
}
