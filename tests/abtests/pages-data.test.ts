// The A/B test pages' data on the real database, read as the app role in the tenant transaction:
// the list holds this tenant's tests only (another tenant's test under the very same id never,
// though the owner sees it is there), each live test's leader and chance equal analyzeAbTest on
// the arms' daily sums worked out here by SQL, the status filter and counts; the results page of a
// test carried by platform ids has one look per day whose last equals the analysis of all the data;
// an unknown id, or another tenant's, gives null.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { lookOf, parsePerformance } from '../../lib/abtests/model';
import { abTestListPage, abTestResultPage } from '../../lib/abtests/page-data';
import { analyzeAbTest, type DailyTotals, type VariantTotals } from '../../lib/abtests/stats';
import { signedPercent } from '../../lib/abtests/view';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { createTenant, inTenant, ownerPool } from '../helpers/db';
import { addDays } from '../engine/fixtures';

const app = appKysely(4);
const owner = ownerPool();

interface TestRow {
  id?: string;
  name: string;
  status?: string;
  platform?: string | null;
  campaign?: string | null;
  type?: string;
  metric?: string;
  variantA?: string;
  variantB?: string;
  start?: string | null;
  end?: string | null;
  performanceA?: unknown;
  performanceB?: unknown;
  winner?: string | null;
  significance?: number | null;
  /** Planned share of B and the MDE; no design row when absent. */
  design?: { shareB: number; mde: number; unit: 'spend' | 'impressions' };
  variants?: { arm: 'A' | 'B'; level: string; id: string }[];
}

/** A test written as the owner in the tenant's transaction: a draft with its design and variants, then moved to its status. */
async function insertTest(c: pg.ClientBase, tenant: string, t: TestRow): Promise<string> {
  const id = t.id ?? randomUUID();
  await c.query(
    `insert into ads.ab_tests (tenant_id, id, test_name, platform, campaign_id, test_type, primary_metric, variant_a, variant_b,
                               performance_a, performance_b, status, start_date, end_date)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, 'draft', $12, $13)`,
    [tenant, id, t.name, t.platform ?? null, t.campaign ?? null, t.type ?? 'creative', t.metric ?? 'cpa', t.variantA ?? 'A', t.variantB ?? 'B',
      JSON.stringify(t.performanceA ?? {}), JSON.stringify(t.performanceB ?? {}), t.start ?? null, t.end ?? null],
  );
  if (t.design) {
    await c.query('insert into ads_engine.ab_test_designs (tenant_id, test_id, planned_share_b, mde, allocation_unit) values ($1, $2, $3, $4, $5)', [
      tenant, id, t.design.shareB, t.design.mde, t.design.unit,
    ]);
  }
  for (const v of t.variants ?? []) {
    await c.query('insert into ads_engine.ab_test_variants (tenant_id, test_id, arm, level, platform_id) values ($1, $2, $3, $4, $5)', [tenant, id, v.arm, v.level, v.id]);
  }
  if (t.design && (t.status ?? 'draft') !== 'draft') await c.query('update ads_engine.ab_test_designs set frozen_at = now() where tenant_id = $1 and test_id = $2', [tenant, id]);
  await c.query('update ads.ab_tests set status = $3, winner = $4, statistical_significance = $5 where tenant_id = $1 and id = $2', [
    tenant, id, t.status ?? 'draft', t.winner ?? null, t.significance ?? null,
  ]);
  return id;
}

interface Day {
  platform?: string;
  level: string;
  id: string;
  campaign: string;
  name: string;
  day: string;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

async function insertDays(c: pg.ClientBase, tenant: string, rows: Day[]): Promise<void> {
  for (const r of rows) {
    await c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name, spend, impressions, clicks, conversions, conversion_value)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [tenant, r.platform ?? 'meta', r.level, r.id, r.day, r.name, r.campaign, r.level === 'campaign' ? r.name : null, r.spend, r.impressions, r.clicks, r.conversions, r.value],
    );
  }
}

/** 21 days of an ad set, varied day to day (so the per-day variance is not the model's). */
function adsetDays(id: string, campaign: string, from: string, n: number, f: (i: number) => Omit<Day, 'level' | 'id' | 'campaign' | 'name' | 'day'>): Day[] {
  return Array.from({ length: n }, (_, i) => ({ level: 'adset', id, campaign, name: `Ad set ${id}`, day: addDays(from, i), ...f(i) }));
}

/** Each arm's daily sums by an independent SQL statement: the tenant's rows of the arm's ids, from the start day to the last complete day. */
async function armDaily(tenant: string, ids: string[], from: string, to: string): Promise<DailyTotals[]> {
  return inTenant(
    owner,
    tenant,
    async (c) =>
      (
        await c.query(
          `select to_char(day, 'YYYY-MM-DD') as day, sum(impressions)::float8 as impressions, sum(clicks)::float8 as clicks,
                  sum(conversions)::float8 as conversions, sum(spend)::float8 as spend, sum(conversion_value)::float8 as "conversionValue"
           from ads.metrics_daily
           where tenant_id = $1 and platform = 'meta' and level = 'adset' and platform_id = any($2::text[]) and day between $3::date and $4::date
           group by day order by day`,
          [tenant, ids, from, to],
        )
      ).rows as DailyTotals[],
    false,
  );
}

const total = (d: DailyTotals[]): VariantTotals =>
  d.reduce(
    (s, x) => ({ impressions: s.impressions + x.impressions, clicks: s.clicks + x.clicks, conversions: s.conversions + x.conversions, spend: s.spend + x.spend, conversionValue: s.conversionValue + x.conversionValue }),
    { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 },
  );

let tenant: string;
let other: string;
let yesterday: string;
let start: string;
const ids = { byIds: '', entered: '', draft: '', done: '', otherOnly: '' };

const entA = { impressions: 200000, clicks: 4000, conversions: 150, spend: 2000, conversion_value: 6000 };
const entB = { impressions: 205000, clicks: '4400', conversions: 160, spend: 2050, conversion_value: 6100 };

beforeAll(async () => {
  tenant = await createTenant(owner, 'A/B pages');
  other = await createTenant(owner, 'A/B pages, other tenant');
  yesterday = (await owner.query<{ d: string }>("select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d", [tenant])).rows[0]!.d;
  start = addDays(yesterday, -20);
  ids.byIds = randomUUID();

  await inTenant(owner, tenant, async (c) => {
    await insertDays(c, tenant, [
      { level: 'campaign', id: 'camp1', campaign: 'camp1', name: 'Spring sale', day: yesterday, spend: 1, impressions: 1, clicks: 0, conversions: 0, value: 0 },
      // A: CPA about 20; B about 18 (lower is better)
      ...adsetDays('as-a', 'camp1', start, 21, (i) => ({ spend: 300 + ((i * 37) % 60), impressions: 30000 + ((i * 911) % 4000), clicks: 600 + ((i * 11) % 50), conversions: 14 + ((i * 7) % 5), value: 900 + ((i * 13) % 200) })),
      ...adsetDays('as-b', 'camp1', start, 21, (i) => ({ spend: 295 + ((i * 53) % 70), impressions: 30500 + ((i * 577) % 3000), clicks: 620 + ((i * 17) % 40), conversions: 16 + ((i * 3) % 6), value: 950 + ((i * 29) % 150) })),
      // outside the test: before its start, and today (after the last complete day)
      { level: 'adset', id: 'as-a', campaign: 'camp1', name: 'Ad set as-a', day: addDays(start, -1), spend: 5000, impressions: 1, clicks: 1, conversions: 0, value: 0 },
      { level: 'adset', id: 'as-b', campaign: 'camp1', name: 'Ad set as-b', day: addDays(yesterday, 1), spend: 0, impressions: 90000, clicks: 9000, conversions: 900, value: 0 },
    ]);
    await insertTest(c, tenant, {
      id: ids.byIds,
      name: 'Headline test',
      status: 'running',
      platform: 'meta',
      campaign: 'camp1',
      metric: 'cpa',
      variantA: 'Old headline',
      variantB: 'New headline',
      start,
      design: { shareB: 0.5, mde: 0.1, unit: 'spend' },
      variants: [
        { arm: 'A', level: 'adset', id: 'as-a' },
        { arm: 'B', level: 'adset', id: 'as-b' },
      ],
    });
    ids.entered = await insertTest(c, tenant, { name: 'Landing page', status: 'running', type: 'landing_page', metric: 'ctr', start, performanceA: entA, performanceB: entB });
    ids.draft = await insertTest(c, tenant, { name: 'Audience draft', type: 'audience', metric: 'roas' });
    ids.done = await insertTest(c, tenant, { name: 'Bidding, done', status: 'completed', type: 'bidding', start: addDays(start, -40), end: addDays(start, -5), winner: 'B', significance: 0.98765, variantB: 'Cost cap' });
  });
  // The other tenant: a test under the very same id, the same platform ids and campaign with other figures and names.
  await inTenant(owner, other, async (c) => {
    await insertDays(c, other, [
      { level: 'campaign', id: 'camp1', campaign: 'camp1', name: 'Not yours', day: yesterday, spend: 1, impressions: 1, clicks: 0, conversions: 0, value: 0 },
      ...adsetDays('as-a', 'camp1', start, 21, () => ({ spend: 100, impressions: 9000, clicks: 900, conversions: 90, value: 10 })),
      ...adsetDays('as-b', 'camp1', start, 21, () => ({ spend: 900, impressions: 9000, clicks: 100, conversions: 1, value: 10 })),
    ]);
    await insertTest(c, other, {
      id: ids.byIds,
      name: "The other tenant's test",
      status: 'running',
      platform: 'meta',
      campaign: 'camp1',
      metric: 'cpa',
      start,
      design: { shareB: 0.5, mde: 0.1, unit: 'spend' },
      variants: [
        { arm: 'A', level: 'adset', id: 'as-a' },
        { arm: 'B', level: 'adset', id: 'as-b' },
      ],
    });
    ids.otherOnly = await insertTest(c, other, { name: 'Only the other tenant', status: 'paused', start });
  });
});

const list = (t: string, status: Parameters<typeof abTestListPage>[2]['status'] = null) => rolledBackAsApp(app.db, t, (trx) => abTestListPage(trx, t, { status }));
const result = (t: string, id: string) => rolledBackAsApp(app.db, t, (trx) => abTestResultPage(trx, t, id));

describe('the list', () => {
  it("holds this tenant's tests only; the other tenant's under the same id is never there, though it exists", async () => {
    const page = await list(tenant);
    expect(page.rows.map((r) => r.id).sort()).toEqual([ids.byIds, ids.entered, ids.draft, ids.done].sort());
    expect(page.rows.map((r) => r.name)).not.toContain("The other tenant's test");
    expect(page.rows.find((r) => r.id === ids.byIds)).toMatchObject({ name: 'Headline test', campaign: 'Spring sale', platform: 'Meta' });
    expect(page.total).toBe(4);
    // both sides: the owner sees the two rows under that id, one per tenant
    const both = await owner.query('select tenant_id from ads.ab_tests where id = $1 order by test_name', [ids.byIds]);
    expect(both.rows.map((r) => r.tenant_id).sort()).toEqual([tenant, other].sort());
    // and the other tenant's list holds its own
    const theirs = await list(other);
    expect(theirs.rows.map((r) => r.name).sort()).toEqual(['Only the other tenant', "The other tenant's test"]);
    expect(theirs.rows.find((r) => r.id === ids.byIds)!.campaign).toBe('Not yours');
  });

  it('grouped by status, running first; counts per status as SQL counts them', async () => {
    const page = await list(tenant);
    expect(page.rows.map((r) => r.status)).toEqual(['Running', 'Running', 'Draft', 'Completed']);
    const sql = await inTenant(owner, tenant, async (c) => (await c.query('select status, count(*)::int as n from ads.ab_tests where tenant_id = $1 group by status', [tenant])).rows, false);
    const expected = { draft: 0, running: 0, paused: 0, completed: 0, cancelled: 0 } as Record<string, number>;
    for (const r of sql) expected[r.status] = r.n;
    expect(page.counts).toEqual(expected);
  });

  it("the leader and its chance of a test on platform ids equal analyzeAbTest on the arms' daily sums", async () => {
    const a = await armDaily(tenant, ['as-a'], start, yesterday);
    const b = await armDaily(tenant, ['as-b'], start, yesterday);
    expect(a).toHaveLength(21);
    const an = analyzeAbTest('cpa', { totals: total(a), daily: a }, { totals: total(b), daily: b }, { mde: 0.1, plannedShareB: 0.5, allocationUnit: 'spend' });
    expect(an.minSampleReached).toBe(true);
    expect(an.split.ok).toBe(true);
    expect(an.estimate.computable && an.estimate.varianceModel).toBe('per_day');
    const p = an.bayes!.probBBetter;
    const arm = p > 0.5 ? 'B' : 'A';
    expect(arm).toBe('B'); // B's CPA is the lower
    const row = (await list(tenant)).rows.find((r) => r.id === ids.byIds)!;
    expect(row.leader).toBe('B · New headline');
    expect(row.chance).toBeCloseTo(p, 12);
    expect(row.leaderNote).toMatch(/ chance to win$/);
  });

  it('the leader of a test with entered totals equals analyzeAbTest on them, with the default design', async () => {
    const pa = parsePerformance(entA);
    const pb = parsePerformance(entB);
    if (!pa.ok || !pb.ok) throw new Error('fixture totals do not parse');
    const an = analyzeAbTest('ctr', { totals: pa.totals }, { totals: pb.totals }, { mde: 0.1, plannedShareB: 0.5, allocationUnit: 'spend' });
    const row = (await list(tenant)).rows.find((r) => r.id === ids.entered)!;
    expect(row.leader).toBe('B');
    expect(row.chance).toBeCloseTo(an.bayes!.probBBetter, 12);
  });

  it('filters by status: the completed test with its winner and significance; a status with no test is empty', async () => {
    const done = await list(tenant, 'completed');
    expect(done.rows.map((r) => r.id)).toEqual([ids.done]);
    expect(done.rows[0]).toMatchObject({ winner: 'B · Cost cap', winnerNote: 'significance 98.8 %', leader: '—' });
    expect(done.total).toBe(4);
    expect((await list(tenant, 'running')).rows.map((r) => r.id).sort()).toEqual([ids.byIds, ids.entered].sort());
    expect((await list(tenant, 'cancelled')).rows).toEqual([]);
    expect((await list(tenant, 'draft')).rows[0]).toMatchObject({ id: ids.draft, leader: '—', dates: 'not scheduled' });
  });
});

describe('the results page', () => {
  it('a test on platform ids: one look per day, the last equal to the analysis of all the data', async () => {
    const a = await armDaily(tenant, ['as-a'], start, yesterday);
    const b = await armDaily(tenant, ['as-b'], start, yesterday);
    const an = analyzeAbTest('cpa', { totals: total(a), daily: a }, { totals: total(b), daily: b }, { mde: 0.1, plannedShareB: 0.5, allocationUnit: 'spend' });
    const expected = lookOf(yesterday, an);
    const page = await result(tenant, ids.byIds);
    expect(page).not.toBeNull();
    const v = page!.view;
    expect(v.name).toBe('Headline test');
    expect(v.chart.points.map((p) => p.day)).toEqual(a.map((d) => d.day));
    const last = v.chart.points.at(-1)!;
    for (const k of ['lift', 'lower', 'upper', 'seqLower', 'seqUpper', 'probBBetter'] as const) expect(last[k]).toBeCloseTo(expected[k]!, 12);
    expect(last.decision).toBe(expected.decision);
    expect(last.eligible).toBe(true);
    // the first six days could not decide: 7 are needed
    expect(v.chart.points.slice(0, 6).every((p) => p.decision === 'not_enough_data')).toBe(true);
    expect(v.lift.lift).toBe(signedPercent(expected.lift, 'en-GB'));
    expect(v.lift.varianceModel).toMatch(/^Per day over 21 days/);
    expect(v.source.kind).toBe('platform_ids');
    expect(v.source.arms.map((x) => x.lines)).toEqual([['ad set as-a (Ad set as-a) on Meta'], ['ad set as-b (Ad set as-b) on Meta']]);
    expect(v.facts.find((f) => f.label === 'Campaign')).toMatchObject({ value: 'Spring sale', href: '/performance/meta/camp1' });
    expect(page!.actions).toMatchObject({ testId: ids.byIds, status: 'running', winner: null, decisionMet: an.decision.status === 'winner_a' || an.decision.status === 'winner_b' });
    // the other tenant reads its own test under that id
    const theirs = await result(other, ids.byIds);
    expect(theirs!.view.name).toBe("The other tenant's test");
    expect(theirs!.view.facts.find((f) => f.label === 'Campaign')!.value).toBe('Not yours');
  });

  it('a draft: no looks, a clear empty chart; no NaN anywhere', async () => {
    const v = (await result(tenant, ids.draft))!.view;
    expect(v.chart.points.filter((p) => p.lift !== null)).toEqual([]);
    expect(v.decision.headline).toBe('Not started yet');
    expect(v.chart.emptyText).toMatch(/^No readings yet: a draft has no data/);
    expect(JSON.stringify(v)).not.toMatch(/NaN|Infinity/);
  });

  it("an unknown id, or another tenant's, gives null", async () => {
    expect(await result(tenant, randomUUID())).toBeNull();
    expect(await result(tenant, ids.otherOnly)).toBeNull();
    // it is there for its own tenant
    expect((await result(other, ids.otherOnly))!.view.name).toBe('Only the other tenant');
  });
});
