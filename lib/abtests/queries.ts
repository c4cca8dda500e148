// The A/B test list's reads, in the tenant's transaction: the tests (of one status, or all) with
// their campaigns' names, the count of each status, and each live test's reading now. A bounded set
// of queries whatever the number of tests: the tests and their variants (lib/abtests/data.ts), every
// daily row of their platform ids at once, the stored looks of those measured from entered totals,
// the campaign names, the counts; the readings are then the pure readTest of each test, the same
// function the results page and the daily loop use.
import 'server-only';
import { sql } from 'kysely';
import type { Tx } from '@/lib/db';
import { armSource, loadAbTests, loadArmDailyMany, loadLooks, readTest, type AbTestRecord, type TestReading } from './data';
import { AB_TEST_STATUSES, type AbTestStatus, type Look } from './model';

export interface AbTestListItem {
  test: AbTestRecord;
  /** The campaign's name on its latest metrics row, or null (no campaign, or never imported). */
  campaignName: string | null;
  /** The reading now of a running or paused test; null for the others (nothing current to lead). */
  reading: TestReading | null;
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
 * The readings on `asOf` of the given tests, batched: every daily row of their platform ids in one
 * query, the loop's stored looks of those with entered totals in another, then readTest on each.
 */
export async function readTestsNow(trx: Tx, tenantId: string, tests: readonly AbTestRecord[], asOf: string): Promise<Map<string, TestReading>> {
  if (tests.length === 0) return new Map();
  const withIds = tests.filter((t) => {
    const s = armSource(t);
    return s.a === 'platform_ids' || s.b === 'platform_ids';
  });
  const withEntered = tests.filter((t) => {
    const s = armSource(t);
    return s.a === 'entered' || s.b === 'entered';
  });
  const [daily, looks] = [await loadArmDailyMany(trx, tenantId, withIds, asOf), await loadLooks(trx, tenantId, withEntered)];
  const none: Look[] = [];
  return new Map(tests.map((t) => [t.id, readTest(t, daily.get(t.id) ?? { a: [], b: [] }, looks.get(t.id) ?? none, asOf)]));
}

/** The list: the tests of `status` (all when null), newest first, each with its campaign name and, when live, its reading now. */
export async function listAbTests(trx: Tx, tenantId: string, filter: { status: AbTestStatus | null }, asOf: string): Promise<AbTestList> {
  const counts = await statusCounts(trx, tenantId);
  const tests = await loadAbTests(trx, tenantId, filter.status ? { statuses: [filter.status] } : {});
  const names = await campaignNames(
    trx,
    tenantId,
    tests.filter((t) => t.platform && t.campaignId).map((t) => ({ platform: t.platform!, campaignId: t.campaignId! })),
  );
  const readings = await readTestsNow(trx, tenantId, tests.filter((t) => LIVE_STATUSES.includes(t.status)), asOf);
  return {
    counts,
    items: tests.map((test) => ({ test, campaignName: campaignNameOf(names, test), reading: readings.get(test.id) ?? null })),
  };
}

/** One test of the tenant with its campaign name, or null (unknown id, or another tenant's: invisible). */
export async function readAbTest(trx: Tx, tenantId: string, id: string): Promise<{ test: AbTestRecord; campaignName: string | null } | null> {
  const [test] = await loadAbTests(trx, tenantId, { ids: [id] });
  if (!test) return null;
  const names = test.platform && test.campaignId ? await campaignNames(trx, tenantId, [{ platform: test.platform, campaignId: test.campaignId }]) : new Map<string, string>();
  return { test, campaignName: campaignNameOf(names, test) };
}
