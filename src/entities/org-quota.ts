/**
 * Exact per-org byte accounting across all of an org's caches. Growth is reserved
 * synchronously before a write is journaled (so two caches cannot both take the last
 * bytes) and given back if the write fails; shrinkage counts once it is durable.
 */
export class OrgQuota {
  private readonly used = new Map<string, number>();

  usedBy(org: string): number {
    return this.used.get(org) ?? 0;
  }

  add(org: string, delta: number): void {
    if (delta !== 0) this.used.set(org, this.usedBy(org) + delta);
  }
}
