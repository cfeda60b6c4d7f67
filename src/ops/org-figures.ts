import type { Envelope } from '../journal/journal';

/** Commit-time buckets (seconds), those of `cachelog_journal_commit_seconds`. */
export const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** What an org's figures count: reads by result, journaled events by what they did, group commits. */
export const FIGURE_KINDS = ['hits', 'misses', 'sets', 'deletes', 'expiries', 'evictions', 'otherEvents'] as const;
export type FigureKind = (typeof FIGURE_KINDS)[number];

const KIND_OF_EVENT: Readonly<Record<string, FigureKind>> = { Set: 'sets', Deleted: 'deletes', Expired: 'expiries', Evicted: 'evictions' };

/** One org's counters since the process started (plain numbers: a read adds one, nothing else). */
interface Counters {
  readonly counts: Record<FigureKind, number>;
  commits: number;
  commitSeconds: number;
  /** Commits per bucket of COMMIT_BUCKETS, the last one for slower ones. */
  readonly commitBuckets: number[];
}

interface Sample {
  readonly at: number;
  readonly counters: Counters;
}

/** Samples kept per org: one a second, so the window can reach back a minute. */
const SAMPLES = 61;

export interface CommitFigures {
  readonly count: number;
  /** null: no commit in the window. */
  readonly meanMs: number | null;
  /** Upper bound of the bucket holding the median (99th percentile) commit, ms; null: no commit. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface OrgFigureReport {
  readonly windowSeconds: number;
  readonly perSecond: Record<FigureKind | 'reads', number>;
  readonly totals: Record<FigureKind | 'reads', number>;
  readonly hitRatio: { readonly window: number | null; readonly total: number | null };
  readonly journalCommits: { readonly window: CommitFigures; readonly total: CommitFigures };
}

const zeroCounters = (): Counters => ({
  counts: { hits: 0, misses: 0, sets: 0, deletes: 0, expiries: 0, evictions: 0, otherEvents: 0 },
  commits: 0,
  commitSeconds: 0,
  commitBuckets: new Array<number>(COMMIT_BUCKETS.length + 1).fill(0),
});

const copyOf = (c: Counters): Counters => ({ counts: { ...c.counts }, commits: c.commits, commitSeconds: c.commitSeconds, commitBuckets: [...c.commitBuckets] });

/**
 * Per-org counters: the figures of one tenant, which `/metrics` exposes with an `org` label
 * (orgs are few; keys and caches are never a label) and `GET /orgMetrics` answers for the
 * caller's org only. Reads are counted at the gateway (every family's GET goes through it),
 * events and commit times from the journal's committed stream. Rates come from a sample of the
 * counters taken once a second (`sample`), so a report is a subtraction, not a walk.
 */
export class OrgFigures {
  private readonly orgs = new Map<string, Counters>();
  private readonly samples = new Map<string, Sample[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A read at the gateway: a hit found a live entry. */
  read(org: string, hit: boolean): void {
    const counts = this.countersOf(org).counts;
    if (hit) counts.hits++;
    else counts.misses++;
  }

  /**
   * A group commit: its events by org, and its write time (when the journal timed it) once for
   * each org with events in it — a commit's latency is what each of its writers waited.
   */
  committed(envelopes: readonly Envelope[], seconds: number | undefined): void {
    let orgs: Set<string> | undefined;
    for (const { ref, event } of envelopes) {
      this.countersOf(ref.org).counts[KIND_OF_EVENT[event.type] ?? 'otherEvents']++;
      if (seconds !== undefined) (orgs ??= new Set()).add(ref.org);
    }
    if (orgs === undefined || seconds === undefined) return;
    let bucket = COMMIT_BUCKETS.findIndex((upper) => seconds <= upper);
    if (bucket < 0) bucket = COMMIT_BUCKETS.length;
    for (const org of orgs) {
      const counters = this.countersOf(org);
      counters.commits++;
      counters.commitSeconds += seconds;
      counters.commitBuckets[bucket]++;
    }
  }

  /** Takes the once-a-second sample the rates are measured against. */
  sample(): void {
    const at = this.now();
    for (const [org, counters] of this.orgs) {
      const ring = this.samples.get(org)!;
      ring.push({ at, counters: copyOf(counters) });
      if (ring.length > SAMPLES) ring.shift();
    }
  }

  /** Orgs counted so far (for the Prometheus collectors). */
  entries(): IterableIterator<[string, Counters]> {
    return this.orgs.entries();
  }

  /** The org's figures: totals since the process started, rates over about `windowSeconds`. */
  report(org: string, windowSeconds: number): OrgFigureReport {
    const now = this.now();
    const current = this.orgs.get(org) ?? zeroCounters();
    const ring = this.samples.get(org) ?? [];
    // The newest sample at least a window old, else the oldest there is (an org first seen moments ago).
    let base: Sample | undefined;
    for (const sample of ring) {
      if (now - sample.at >= windowSeconds * 1000) base = sample;
      else break;
    }
    base ??= ring[0] ?? { at: now, counters: zeroCounters() };
    const elapsed = (now - base.at) / 1000;
    const totals = withReads(current.counts);
    const before = withReads(base.counters.counts);
    const perSecond = Object.fromEntries(
      Object.entries(totals).map(([kind, total]) => [kind, elapsed > 0 ? round((total - before[kind as keyof typeof before]) / elapsed) : 0]),
    ) as Record<FigureKind | 'reads', number>;
    const windowHits = totals.hits - before.hits;
    const windowReads = totals.reads - before.reads;
    return {
      windowSeconds: round(elapsed),
      perSecond,
      totals,
      hitRatio: { window: windowReads > 0 ? round(windowHits / windowReads) : null, total: totals.reads > 0 ? round(totals.hits / totals.reads) : null },
      journalCommits: { window: commitFigures(current, base.counters), total: commitFigures(current, zeroCounters()) },
    };
  }

  private countersOf(org: string): Counters {
    let counters = this.orgs.get(org);
    if (counters === undefined) {
      counters = zeroCounters();
      this.orgs.set(org, counters);
      // Rates of a new org are measured from zero at the moment it was first seen.
      this.samples.set(org, [{ at: this.now(), counters: zeroCounters() }]);
    }
    return counters;
  }
}

const withReads = (counts: Record<FigureKind, number>): Record<FigureKind | 'reads', number> => ({ reads: counts.hits + counts.misses, ...counts });

const round = (n: number): number => Math.round(n * 1000) / 1000;

function commitFigures(now: Counters, then: Counters): CommitFigures {
  const count = now.commits - then.commits;
  if (count <= 0) return { count: 0, meanMs: null, p50Ms: null, p99Ms: null };
  const buckets = now.commitBuckets.map((n, i) => n - then.commitBuckets[i]);
  const quantile = (q: number): number => {
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      seen += buckets[i];
      if (seen >= q * count) return i < COMMIT_BUCKETS.length ? COMMIT_BUCKETS[i] * 1000 : Infinity;
    }
    return Infinity;
  };
  const finite = (ms: number) => (Number.isFinite(ms) ? round(ms) : round(COMMIT_BUCKETS[COMMIT_BUCKETS.length - 1] * 1000));
  return { count, meanMs: round(((now.commitSeconds - then.commitSeconds) / count) * 1000), p50Ms: finite(quantile(0.5)), p99Ms: finite(quantile(0.99)) };
}
