import { Controller, Get, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../../auth/principal.decorator';
import { Principal } from '../../auth/principal';
import { CacheService } from '../cache.service';
import { Metrics } from '../../ops/metrics';
import { OrgFigureReport } from '../../ops/org-figures';
import { Route, RouteContract, json } from '../contract/route-contract';

const DEFAULT_WINDOW_SECONDS = 10;

const Counts = z.object({
  reads: z.number(),
  hits: z.number(),
  misses: z.number(),
  sets: z.number(),
  deletes: z.number(),
  expiries: z.number(),
  evictions: z.number(),
  otherEvents: z.number().meta({ description: 'ExpiryChanged, Flushed, Created, DescriptionChanged, SettingsChanged, CacheDeleted' }),
});
const Commits = z.object({
  count: z.number().int(),
  meanMs: z.number().nullable(),
  p50Ms: z.number().nullable().meta({ description: 'upper bound of the latency bucket holding the median commit; null: no commit' }),
  p99Ms: z.number().nullable(),
});
const OrgMetrics = z.object({
  org: z.string(),
  at: z.string().meta({ description: 'when the figures were read (ISO 8601)' }),
  windowSeconds: z.number().meta({ description: 'the window the rates and window figures cover (shorter just after start or an org\'s first request)' }),
  perSecond: Counts,
  totals: Counts.meta({ description: 'since this process started' }),
  hitRatio: z.object({ window: z.number().nullable(), total: z.number().nullable() }).meta({ description: 'hits / reads; null: no read' }),
  valueBytes: z.number().int().meta({ description: "value bytes of all the org's caches (what the byte quota counts)" }),
  journalCommits: z.object({ window: Commits, total: Commits }).meta({ description: 'group commits that held events of the org, and how long they took to write (fsync included)' }),
});

export const OrgMetricsContract = {
  family: 'native',
  summary: "Live figures of the caller's org: operations per second, hit ratio, bytes, evictions, expiries, journal commit latency",
  description:
    'The per-org counters `/metrics` exposes with an `org` label (cachelog_org_*), for the org of the token only: no other org\'s figures, whatever the query. ' +
    'Reads are key reads of every API family (GET, batch get, Redis GET, ...), events are what was journaled; figures are this node\'s, since it started.',
  query: z.object({
    windowSeconds: z
      .string()
      .regex(/^\d{1,2}$/, 'must be a whole number from 1 to 60')
      .transform(Number)
      .pipe(z.number().int().min(1, 'must be a whole number from 1 to 60').max(60, 'must be a whole number from 1 to 60'))
      .optional()
      .meta({ description: `seconds the rates are measured over (default ${DEFAULT_WINDOW_SECONDS})`, example: '10' }),
  }),
  responses: {
    200: json(OrgMetrics, "the org's figures", {
      org: 'acme',
      at: '2026-12-07T18:00:00.000Z',
      windowSeconds: 10,
      perSecond: { reads: 120.5, hits: 110.2, misses: 10.3, sets: 40, deletes: 1.2, expiries: 0.5, evictions: 0, otherEvents: 0 },
      totals: { reads: 120500, hits: 110200, misses: 10300, sets: 40000, deletes: 1200, expiries: 500, evictions: 0, otherEvents: 12 },
      hitRatio: { window: 0.915, total: 0.915 },
      valueBytes: 10485760,
      journalCommits: { window: { count: 380, meanMs: 1.8, p50Ms: 2.5, p99Ms: 10 }, total: { count: 380000, meanMs: 1.7, p50Ms: 2.5, p99Ms: 10 } },
    }),
  },
} satisfies RouteContract;

/**
 * `GET /orgMetrics`: the console's metrics panel. One path segment, so it shadows no key
 * (`/metrics/org` would be key "org" of a cache named "metrics").
 */
@Controller('orgMetrics')
export class OrgMetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly caches: CacheService,
  ) {}

  @Get()
  @Route(OrgMetricsContract)
  async figures(@CurrentPrincipal() principal: Principal, @Query() query?: { windowSeconds?: number }): Promise<{ org: string; at: string; valueBytes: number } & OrgFigureReport> {
    // The org is the token's, never a parameter: a tenant sees its own figures only.
    const org = principal.org;
    const valueBytes = await this.caches.orgValueBytes(principal);
    const report = this.metrics.orgs.report(org, query?.windowSeconds ?? DEFAULT_WINDOW_SECONDS);
    return { org, at: new Date().toISOString(), ...report, valueBytes };
  }
}
