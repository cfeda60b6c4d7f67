/**
 * How many live caches each org has (MAX_CACHES_PER_ORG). An org's count is loaded once,
 * on its first command (from the cache-name read model), then kept by the entities: a
 * slot is taken synchronously when a command would create a cache (so two new caches
 * cannot both take the last slot), given back if the write fails, and freed once a
 * deletion is durable. Exact once loaded; a creation committed while the count loads may
 * be missed (a resource guard, not an invoice).
 */
export class OrgCaches {
  private readonly live = new Map<string, number>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Names not known to be live that commands are on their way to, by org, with how many commands. */
  private readonly unknown = new Map<string, Map<string, number>>();

  /**
   * @param countLive the org's live caches as the read model has them, once it has
   *   every committed event.
   */
  constructor(
    private readonly countLive: (org: string) => Promise<number>,
    readonly limit: number,
  ) {}

  isLoaded(org: string): boolean {
    return this.live.has(org);
  }

  load(org: string): Promise<void> {
    if (this.live.has(org)) return Promise.resolve();
    let loading = this.loading.get(org);
    if (loading === undefined) {
      loading = this.countLive(org)
        .then((n) => {
          if (!this.live.has(org)) this.live.set(org, n);
        })
        .finally(() => this.loading.delete(org));
      this.loading.set(org, loading);
    }
    return loading;
  }

  /**
   * Admits a command that may create `name`: false when the org's live caches plus the
   * distinct names already on their way would reach the limit (the caller then checks
   * whether the name exists after all). Pair every true with `leave`. This keeps one
   * request over thousands of new names from recovering an entity for each of them.
   */
  enter(org: string, name: string): boolean {
    let names = this.unknown.get(org);
    const known = names?.get(name);
    if (known !== undefined) {
      names!.set(name, known + 1);
      return true;
    }
    if ((this.live.get(org) ?? 0) + (names?.size ?? 0) >= this.limit) return false;
    if (names === undefined) this.unknown.set(org, (names = new Map()));
    names.set(name, 1);
    return true;
  }

  leave(org: string, name: string): void {
    const names = this.unknown.get(org);
    const n = names?.get(name);
    if (names === undefined || n === undefined) return;
    if (n > 1) names.set(name, n - 1);
    else if (names.delete(name) && names.size === 0) this.unknown.delete(org);
  }

  /** True when the org may not create one more cache. */
  atLimit(org: string): boolean {
    return (this.live.get(org) ?? 0) >= this.limit;
  }

  /** Takes a slot for a new cache; false (nothing taken) when the org is at its limit. */
  tryTake(org: string): boolean {
    if (this.atLimit(org)) return false;
    this.live.set(org, (this.live.get(org) ?? 0) + 1);
    return true;
  }

  /** Gives a slot back (a deleted cache, or a creation whose write failed). */
  release(org: string, slots = 1): void {
    if (slots > 0 && this.live.has(org)) this.live.set(org, Math.max(0, this.live.get(org)! - slots));
  }
}
