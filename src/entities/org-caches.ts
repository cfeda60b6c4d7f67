/** Commands for names not known live, in one org: admitted ones by name, and those that wait. */
interface OrgFlights {
  /** Names admitted commands are on their way to, with how many commands each. */
  readonly names: Map<string, number>;
  /** Commands that wait for names on their way to settle, by name, in arrival order. */
  readonly waiting: Map<string, Array<(admitted: boolean) => void>>;
}

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
  private readonly flights = new Map<string, OrgFlights>();

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
   * Admits a command that may create `name` (one request over thousands of new names must not
   * recover an entity for each): `go(true)` at once while the org's live caches plus the
   * distinct names on their way stay under the limit; `go(false)` only once the live caches
   * alone reach it (the caller then checks whether the name exists after all). A name on its
   * way may be live already, or decided and counted live before it is answered, so the sum can
   * count a name twice: past it, the command waits until names on their way are answered, and
   * is judged then. Commands of one org wait in arrival order, those of one name together, so
   * a name's commands reach its cache in the order they came. Pair every `go(true)` with `leave`.
   */
  enter(org: string, name: string, go: (admitted: boolean) => void): void {
    let flights = this.flights.get(org);
    const known = flights?.names.get(name);
    if (known !== undefined) {
      // Never waiting itself: a name's waiters are admitted together (see wake).
      flights!.names.set(name, known + 1);
      return go(true);
    }
    if (flights === undefined || flights.waiting.size === 0) {
      const live = this.live.get(org) ?? 0;
      if (live >= this.limit) return go(false);
      if (live + (flights?.names.size ?? 0) < this.limit) {
        if (flights === undefined) this.flights.set(org, (flights = { names: new Map(), waiting: new Map() }));
        flights.names.set(name, 1);
        return go(true);
      }
    }
    const waiters = flights!.waiting.get(name);
    if (waiters === undefined) flights!.waiting.set(name, [go]);
    else waiters.push(go);
  }

  leave(org: string, name: string): void {
    const flights = this.flights.get(org);
    const n = flights?.names.get(name);
    if (flights === undefined || n === undefined) return;
    if (n > 1) return void flights.names.set(name, n - 1);
    flights.names.delete(name);
    this.wake(org, flights);
  }

  /** Lets waiting commands go, in order, as far as the count allows; all of them (refused) once the org is at its limit. */
  private wake(org: string, flights: OrgFlights): void {
    for (const [name, waiters] of flights.waiting) {
      const live = this.live.get(org) ?? 0;
      const admitted = live < this.limit;
      if (admitted) {
        const known = flights.names.get(name);
        if (known === undefined && live + flights.names.size >= this.limit) break;
        flights.names.set(name, (known ?? 0) + waiters.length);
      }
      flights.waiting.delete(name);
      for (const go of waiters) go(admitted);
    }
    if (flights.names.size === 0 && flights.waiting.size === 0 && this.flights.get(org) === flights) this.flights.delete(org);
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
    if (slots <= 0 || !this.live.has(org)) return;
    this.live.set(org, Math.max(0, this.live.get(org)! - slots));
    const flights = this.flights.get(org);
    if (flights !== undefined) this.wake(org, flights);
  }
}
