// The A/B test list's reads, in the tenant's transaction: the tests (of one status, or all) with
// their campaigns' names, the count of each status, and each live test's analysis now. A bounded set
// of queries whatever the number of tests: the tests and their variants (lib/abtests/data.ts), every
// daily row of their platform ids at once, the campaign names, the counts; the analyses are then the
// pure readTestAnalysis of each test, the analysis readTest gives the results page and the daily loop
// (without the look series, which the list does not show).
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { armSource, loadAbTests, loadArmDailyMany, readTestAnalysis, type AbTestRecord } from './data';
import { AB_TEST_STATUSES, type AbTestStatus } from './model';
import type { AbTestAnalysis } from './stats';

export interface AbTestListItem {
  test: AbTestRecord;
  /** The campaign's name on its latest metrics row, or null (no campaign, or never imported). */
  campaignName: string | null;
  /** The analysis now of a running or paused test; null for the others (nothing current to lead). */
  analysis: AbTestAnalysis | null;
}

export interface AbTestList {
  items: AbTestListItem[];
  /** Tests of each status, whatever the filter. */
  counts: Record<AbTestStatus, number>;
}

/** Statuses whose tests are read now for the list's leader column. */
export const LIVE_STATUSES: readonly AbTestStatus[] = ['running', 'paused'];

/** How many tests the tenant has in each status (one grouped count on the status index). */
export async function statusCounts(trx: Tx, tenantId: string): Promise<Record<AbTestStatus, number>> {
  const rows = await trx
    .selectFrom('ads.ab_tests')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('tenant_id', '=', tenantId)
    .groupBy('status')
    .execute();
  const out = Object.fromEntries(AB_TEST_STATUSES.map((s) => [s, 0])) as Record<AbTestStatus, number>;
  for (const r of rows) if (r.status in out) out[r.status as AbTestStatus] = Number(r.n);
  return out;
}

const pairKey = (platform: string, campaignId: string) => `${platform}\u0000${campaignId}`;

/**
 * The name of each (platform, campaign id): its campaign row's latest name, else the latest
 * campaign_name an ad-set row of it carries. One statement for all the pairs.
 */
export async function campaignNames(trx: Tx, tenantId: string, pairs: readonly { platform: string; campaignId: string }[]): Promise<Map<string, string>> {
  const unique = [...new Map(pairs.map((p) => [pairKey(p.platform, p.campaignId), p])).values()];
  if (unique.length === 0) return new Map();
  const r = await sql<{ platform: string; campaign_id: string; name: string | null }>`
    select k.platform, k.campaign_id,
           coalesce(
             (select coalesce(m.campaign_name, m.entity_name) from ads.metrics_daily m
               where m.tenant_id = ${tenantId} and m.platform = k.platform::ads.platform and m.level = 'campaign'
                 and m.platform_id = k.campaign_id and coalesce(m.campaign_name, m.entity_name) is not null
               order by m.day desc limit 1),
             (select m.campaign_name from ads.metrics_daily m
               where m.tenant_id = ${tenantId} and m.platform = k.platform::ads.platform and m.level <> 'campaign'
                 and m.campaign_id = k.campaign_id and m.campaign_name is not null
               order by m.day desc limit 1)) as name
    from unnest(${unique.map((p) => p.platform)}::text[], ${unique.map((p) => p.campaignId)}::text[]) as k(platform, campaign_id)`.execute(trx);
  const out = new Map<string, string>();
  for (const x of r.rows) if (x.name && x.name.trim()) out.set(pairKey(x.platform, x.campaign_id), x.name);
  return out;
}

/** The campaign name of one test, or null. */
export function campaignNameOf(names: Map<string, string>, test: Pick<AbTestRecord, 'platform' | 'campaignId'>): string | null {
  return test.platform && test.campaignId ? (names.get(pairKey(test.platform, test.campaignId)) ?? null) : null;
}

/**
 * The analyses on `asOf` of the given tests, batched: every daily row of their platform ids in one
 * query, then each test's current analysis (readTestAnalysis: the analysis readTest gives, without
 * recomputing the look series, which the list does not show).
 */
export async function analysesNow(trx: Tx, tenantId: string, tests: readonly AbTestRecord[], asOf: string): Promise<Map<string, AbTestAnalysis>> {
  if (tests.length === 0) return new Map();
  const withIds = tests.filter((t) => {
    const src = armSource(t);
    return src.a === 'platform_ids' || src.b === 'platform_ids';
  });
  const daily = await loadArmDailyMany(trx, tenantId, withIds, asOf);
  return new Map(tests.map((t) => [t.id, readTestAnalysis(t, daily.get(t.id) ?? { a: [], b: [] }, asOf)]));
}

/** The tests of one status (or all), newest first, with their campaign names, the status counts and the live tests' analyses now. */
export async function listAbTests(trx: Tx, tenantId: string, filter: { status: AbTestStatus | null }, asOf: string): Promise<AbTestList> {
  const counts = await statusCounts(trx, tenantId);
  const tests = await loadAbTests(trx, tenantId, filter.status ? { statuses: [filter.status] } : {});
  const names = await campaignNames(
    trx,
    tenantId,
    tests.filter((t) => t.platform && t.campaignId).map((t) => ({ platform: t.platform!, campaignId: t.campaignId! })),
  );
  const analyses = await analysesNow(trx, tenantId, tests.filter((t) => LIVE_STATUSES.includes(t.status)), asOf);
  return {
    counts,
    items: tests.map((test) => ({ test, campaignName: campaignNameOf(names, test), analysis: analyses.get(test.id) ?? null })),
  };
}

/** One test of the tenant with its campaign name, or null (unknown id, or another tenant's: invisible). */
export async function readAbTest(trx: Tx, tenantId: string, id: string): Promise<{ test: AbTestRecord; campaignName: string | null } | null> {
  const [test] = await loadAbTests(trx, tenantId, { ids: [id] });
  if (!test) return null;
  const names = test.platform && test.campaignId ? await campaignNames(trx, tenantId, [{ platform: test.platform, campaignId: test.campaignId }]) : new Map<string, string>();
  return { test, campaignName: campaignNameOf(names, test) };
}
