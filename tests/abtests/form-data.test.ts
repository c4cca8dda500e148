// What the A/B test form reads, on the real database as the app role in the tenant transaction: the
// entities of a campaign seen in the last 90 days (not older ones, never another tenant's under the
// very same ids, though the owner sees those are there), each with its last 28 days of daily totals
// equal to an independent SQL sum; the campaigns and platforms with data; the form's choice of
// platform and campaign from the URL or the test; a stored test as the edit form shows it. Then the
// sample size the form computes from those days, against sampleSize called on totals assembled
// here, and a value from the guide (conversion rate 5 %, +10 %: 31,263 clicks per variant). Last, the
// edit form of a running test, rendered and posted back as it is, saves as no change: the fixed design
// goes back in hidden fields the server accepts.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AbTestForm } from '../../components/abtests/AbTestForm';
import { planSentence, planTest, type ArmTraffic } from '../../components/abtests/SampleSizePanel';
import { abTestFormData, campaignOptions, candidateEntities, formValueOf, platformsWithMetrics, readTest, readVariants, type Candidate } from '../../lib/abtests/form-data';
import { createAbTestHandler, NO_CHANGE, updateAbTestHandler } from '../../lib/abtests/mutations';
import { addDays, createAbTestSchema, updateAbTestSchema } from '../../lib/abtests/schema';
import { sampleSize } from '../../lib/abtests/sample-size';
import type { DailyTotals, VariantTotals } from '../../lib/abtests/stats';
import { PLATFORMS } from '../../lib/performance/metrics';
import { runTenantAction } from '../../lib/request/action-core';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { inTenant, ownerPool } from '../helpers/db';
import { loadMetricLines, type MetricLine } from '../helpers/metrics';
import { createTeam } from '../auth/fixtures';

vi.mock('next/navigation', () => ({ useRouter: () => ({ push: () => undefined, replace: () => undefined }), usePathname: () => '/ab-tests/x/edit' }));

const app = appKysely(4);
const owner = ownerPool();
const STYLE = { currency: 'EUR', locale: 'en-GB' };

const adset = (id: string, campaignId: string, fromAgo: number, toAgo: number, f: [number, number, number, number, number]): MetricLine => ({
  platform: 'meta',
  level: 'adset',
  id,
  name: `Ad set ${id}`,
  campaignId,
  campaignName: `Campaign ${campaignId}`,
  fromAgo,
  toAgo,
  spend: f[0],
  impressions: f[1],
  clicks: f[2],
  conversions: f[3],
  value: f[4],
});

/** Campaign c1 with ad sets of every age (as1 changed its delivery 14 days ago), an ad, an ad-set-only campaign c2, and Google. */
const MINE: MetricLine[] = [
  { platform: 'meta', id: 'c1', name: 'Spring sale', fromAgo: 40, toAgo: 0, spend: 300, impressions: 30000, clicks: 900, conversions: 45, value: 2700 },
  adset('as1', 'c1', 40, 14, [100, 10000, 300, 15, 900]),
  adset('as1', 'c1', 13, 0, [140.5, 12000, 410, 21.5, 1300.25]),
  adset('as2', 'c1', 4, 0, [20, 3000, 60, 2, 100]),
  adset('as3', 'c1', 60, 50, [10, 1000, 20, 1, 50]),
  adset('as4', 'c1', 110, 100, [10, 1000, 20, 1, 50]),
  adset('as9', 'c2', 20, 0, [33.33, 2500, 75, 3, 120]),
  { platform: 'google', id: 'g1', name: 'Search', fromAgo: 5, toAgo: 0, spend: 80, impressions: 4000, clicks: 200, conversions: 10, value: 500 },
];

/** The other tenant: the same ids with other figures, and one more ad set. */
const THEIRS: MetricLine[] = [
  { platform: 'meta', id: 'c1', name: 'Their campaign', fromAgo: 30, toAgo: 0, spend: 9999, impressions: 99999, clicks: 9999, conversions: 999, value: 9999 },
  adset('as1', 'c1', 30, 0, [777, 77777, 7777, 777, 7777]),
  adset('bx', 'c1', 30, 0, [5, 500, 50, 5, 50]),
];

let mine: Awaited<ReturnType<typeof createTeam>>;
let theirs: Awaited<ReturnType<typeof createTeam>>;
let yesterday: string;

beforeAll(async () => {
  mine = await createTeam(owner, 'A/B form data');
  theirs = await createTeam(owner, 'A/B form data, other tenant');
  await loadMetricLines(owner, mine.tenantId, MINE);
  await loadMetricLines(owner, theirs.tenantId, THEIRS);
  // An ad of campaign c1 for ten days (the helper writes campaigns and ad sets only).
  await inTenant(owner, mine.tenantId, (c) =>
    c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, campaign_id, campaign_name, spend, impressions, clicks, conversions, conversion_value)
       select $1, 'meta', 'ad', 'ad1', ads_engine.tenant_yesterday($1) - g, 'Video ad', 'c1', 'Spring sale', 7.25, 900, 27, 1.5, 60 from generate_series(0, 9) g`,
      [mine.tenantId],
    ),
  );
  yesterday = await inTenant(owner, mine.tenantId, async (c) => (await c.query("select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d", [mine.tenantId])).rows[0].d);
});

interface SqlSums {
  key: string;
  days: number;
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  conversion_value: number;
}

/** The 28-day sums per entity of campaign c1 (ad sets and ads), by an SQL query of its own. */
async function sqlSums(tenant: string): Promise<SqlSums[]> {
  return inTenant(owner, tenant, async (c) =>
    (
      await c.query(
        `select level || ':' || platform_id as key, count(*)::int as days, sum(impressions)::float8 as impressions, sum(clicks)::float8 as clicks,
                sum(conversions)::float8 as conversions, sum(spend)::float8 as spend, sum(conversion_value)::float8 as conversion_value
         from ads.metrics_daily
         where tenant_id = $1 and platform = 'meta' and campaign_id = 'c1' and level <> 'campaign'
           and day between ads_engine.tenant_yesterday($1) - 27 and ads_engine.tenant_yesterday($1)
         group by 1 order by 1`,
        [tenant],
      )
    ).rows as SqlSums[],
  );
}

const sumOf = (days: readonly DailyTotals[]): VariantTotals =>
  days.reduce((t, d) => ({
    impressions: t.impressions + d.impressions,
    clicks: t.clicks + d.clicks,
    conversions: t.conversions + d.conversions,
    spend: t.spend + d.spend,
    conversionValue: t.conversionValue + d.conversionValue,
  }), { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 });

describe('the entities that can carry a variant', () => {
  it("a campaign's ad sets and ads of the last 90 days, each with its 28-day daily totals equal to an SQL sum; this tenant's only", async () => {
    const set = await rolledBackAsApp(app.db, mine.tenantId, (trx) => candidateEntities(trx, mine.tenantId, yesterday, { platform: 'meta', campaignId: 'c1' }));
    expect(set).toMatchObject({ platform: 'meta', campaignId: 'c1', from: addDays(yesterday, -27), to: yesterday, total: 4 });
    // ad sets first, the largest by recent spend; as4 (100 days ago) and the campaign's own row are not offered
    expect(set.entities.map((e) => e.key)).toEqual(['adset:as1', 'adset:as2', 'adset:as3', 'ad:ad1']);
    expect(set.entities.map((e) => e.name)).toEqual(['Ad set as1', 'Ad set as2', 'Ad set as3', 'Video ad']);

    const expected = await sqlSums(mine.tenantId);
    const byKey = new Map(set.entities.map((e) => [e.key, e]));
    // as3 has no day in the last 28: it is offered without traffic
    expect(expected.map((x) => x.key)).toEqual(['ad:ad1', 'adset:as1', 'adset:as2']);
    for (const x of expected) {
      const e = byKey.get(x.key)!;
      const s = sumOf(e.daily);
      expect(e.daily.length).toBe(x.days);
      expect(s.impressions).toBe(x.impressions);
      expect(s.clicks).toBe(x.clicks);
      expect(s.conversions).toBeCloseTo(x.conversions, 6);
      expect(s.spend).toBeCloseTo(x.spend, 6);
      expect(s.conversionValue).toBeCloseTo(x.conversion_value, 6);
      expect(e.spend).toBeCloseTo(x.spend, 6);
    }
    // and by hand: as1 is 14 days of the new delivery and 14 of the old in the window
    expect(sumOf(byKey.get('adset:as1')!.daily)).toEqual({ impressions: 14 * 12000 + 14 * 10000, clicks: 14 * 410 + 14 * 300, conversions: 14 * 21.5 + 14 * 15, spend: 14 * 140.5 + 14 * 100, conversionValue: 14 * 1300.25 + 14 * 900 });
    expect(byKey.get('adset:as3')).toMatchObject({ spend: 0, daily: [], lastDay: addDays(yesterday, -50) });
    // days in order, one per day
    const days = byKey.get('adset:as1')!.daily.map((d) => d.day);
    expect(days).toEqual([...days].sort());
    expect(days[0]).toBe(addDays(yesterday, -27));

    // the other tenant's rows under the same ids are there (the owner sees them) but never offered
    const theirSums = await sqlSums(theirs.tenantId);
    expect(theirSums.map((x) => x.key)).toEqual(['adset:as1', 'adset:bx']);
    expect(set.entities.some((e) => e.key === 'adset:bx')).toBe(false);
    expect(sumOf(byKey.get('adset:as1')!.daily).spend).not.toBeCloseTo(theirSums[0]!.spend, 0);
    const theirSet = await rolledBackAsApp(app.db, theirs.tenantId, (trx) => candidateEntities(trx, theirs.tenantId, yesterday, { platform: 'meta', campaignId: 'c1' }));
    expect(theirSet.entities.map((e) => e.key)).toEqual(['adset:as1', 'adset:bx']);
    expect(theirSet.entities[0]!.spend).toBeCloseTo(theirSums[0]!.spend, 6);
  });

  it("without a campaign, the platform's campaigns; a test's own ids without recent data are kept, without traffic", async () => {
    const set = await rolledBackAsApp(app.db, mine.tenantId, (trx) =>
      candidateEntities(trx, mine.tenantId, yesterday, { platform: 'meta', campaignId: null, include: ['campaign:c9', 'adset:as4'] }),
    );
    expect(set.entities.map((e) => e.key)).toEqual(['campaign:c1', 'campaign:c9', 'adset:as4']);
    expect(set.entities[0]).toMatchObject({ name: 'Spring sale', spend: 28 * 300 });
    expect(set.entities[0]!.daily).toHaveLength(28);
    expect(set.entities[1]).toEqual({ key: 'campaign:c9', level: 'campaign', platformId: 'c9', name: null, spend: 0, lastDay: null, daily: [] });
  });

  it('the campaigns and platforms with data in the last 90 days, with their 28-day spend', async () => {
    const [campaigns, platforms] = await rolledBackAsApp(app.db, mine.tenantId, async (trx) => [
      await campaignOptions(trx, mine.tenantId, yesterday),
      await platformsWithMetrics(trx, mine.tenantId, yesterday),
    ]);
    expect(platforms).toEqual(['meta', 'google']);
    expect(campaigns).toEqual([
      { platform: 'google', id: 'g1', name: 'Search', spend: 6 * 80 },
      // the campaign's own rows; c2 has ad set rows only, so theirs
      { platform: 'meta', id: 'c1', name: 'Spring sale', spend: 28 * 300 },
      { platform: 'meta', id: 'c2', name: 'Campaign c2', spend: expect.closeTo(21 * 33.33, 6) },
    ]);
  });
});

describe('the form data of the pages', () => {
  it('a new test: the platform with most spend, no campaign until one is chosen; the URL chooses, unknown values fall back', async () => {
    const read = (scope: Parameters<typeof abTestFormData>[2]) => rolledBackAsApp(app.db, mine.tenantId, (trx) => abTestFormData(trx, mine.tenantId, scope));
    const d = (await read({}))!;
    expect(d).toMatchObject({ hasMetrics: true, platform: 'meta', campaignId: null, yesterday, today: addDays(yesterday, 1), minStart: addDays(yesterday, -89), test: null });
    expect(d.platforms.map((p) => p.value)).toEqual(['meta', 'google']);
    expect(d.candidates!.entities.map((e) => e.key)).toEqual(['campaign:c1']);
    expect((await read({ platform: 'meta', campaign: 'c1' }))!.candidates!.entities.map((e) => e.key)).toEqual(['adset:as1', 'adset:as2', 'adset:as3', 'ad:ad1']);
    expect((await read({ platform: 'google', campaign: '' }))!).toMatchObject({ platform: 'google', campaignId: null });
    expect((await read({ platform: 'meta', campaign: 'zzz' }))!.campaignId).toBeNull();
    expect((await read({ platform: 'myspace', campaign: 'c1' }))!).toMatchObject({ platform: 'meta', campaignId: null });
    // another tenant's campaign id is not one of ours
    expect((await read({ platform: 'meta', campaign: 'bx' }))!.campaignId).toBeNull();
  });

  it('a tenant without any data: every platform offered, nothing to pick, totals entered by hand', async () => {
    const t = await createTeam(owner, 'A/B form data, no metrics');
    const d = (await rolledBackAsApp(app.db, t.tenantId, (trx) => abTestFormData(trx, t.tenantId, {})))!;
    expect(d).toMatchObject({ hasMetrics: false, platform: null, campaignId: null, candidates: null, campaigns: [] });
    expect(d.platforms.map((p) => p.value)).toEqual([...PLATFORMS]);
  });

  it('a stored test as the edit form shows it; another tenant’s test is not found', async () => {
    const today = addDays(yesterday, 1);
    const r = await runTenantAction({
      schema: createAbTestSchema,
      minRole: 'buyer',
      handler: createAbTestHandler,
      userId: mine.buyer.id,
      preferredTenantId: null,
      db: app.db,
      input: {
        name: 'Video vs static',
        type: 'creative',
        hypothesis: 'Video lifts CTR',
        platform: 'meta',
        campaign: 'c1',
        variantA: 'Static',
        variantB: 'Video',
        sourceA: 'ids',
        idsA: ['adset:as1', 'adset:as3'],
        sourceB: 'entered',
        b_impressions: '4000',
        b_clicks: '120',
        b_conversions: '6',
        b_spend: '55.5',
        b_conversion_value: '240',
        metric: 'ctr',
        shareB: '40',
        allocationUnit: 'impressions',
        mde: '7.5',
        startDate: '',
        endDate: addDays(today, 30),
      },
    });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const id = (r as { data: { id: string } }).data.id;
    const d = (await rolledBackAsApp(app.db, mine.tenantId, (trx) => abTestFormData(trx, mine.tenantId, { testId: id })))!;
    expect(d).toMatchObject({ platform: 'meta', campaignId: 'c1' });
    expect(d.test).toMatchObject({
      id,
      status: 'draft',
      frozenAt: null,
      name: 'Video vs static',
      type: 'creative',
      hypothesis: 'Video lifts CTR',
      platform: 'meta',
      campaignId: 'c1',
      variantA: 'Static',
      variantB: 'Video',
      sources: { A: 'ids', B: 'entered' },
      ids: { A: ['adset:as1', 'adset:as3'], B: [] },
      totals: { A: { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversion_value: 0 }, B: { impressions: 4000, clicks: 120, conversions: 6, spend: 55.5, conversion_value: 240 } },
      totalsProblem: { A: null, B: null },
      metric: 'ctr',
      shareB: 40,
      allocationUnit: 'impressions',
      mde: 7.5,
      startDate: null,
      endDate: addDays(today, 30),
    });
    expect(d.test!.version).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(d.candidates!.entities.map((e) => e.key)).toEqual(['adset:as1', 'adset:as2', 'adset:as3', 'ad:ad1']);

    // totals written from psql that cannot be read are named, not shown as figures
    const row = await rolledBackAsApp(app.db, mine.tenantId, async (trx) => ({ t: (await readTest(trx, mine.tenantId, id))!, v: await readVariants(trx, mine.tenantId, id) }));
    const odd = formValueOf({ ...row.t, performance_b: { clicks: 'many' } }, row.v);
    expect(odd.totalsProblem.B).toMatch(/^Variant B totals\.clicks must be a number/);

    expect(await rolledBackAsApp(app.db, theirs.tenantId, (trx) => abTestFormData(trx, theirs.tenantId, { testId: id }))).toBeNull();
  });
});

describe('the sample size the form computes from those days', () => {
  const constant = (n: number, t: VariantTotals): DailyTotals[] => Array.from({ length: n }, (_, i) => ({ day: addDays('2026-01-01', i), ...t }));
  const ids = (daily: DailyTotals[], count = 1): ArmTraffic => ({ source: 'ids', count, level: 'adset', daily });

  it('conversion rate 5 %, +10 %: 31,263 clicks per variant (the guide), split by the share of B', () => {
    const day = { impressions: 20000, clicks: 1000, conversions: 50, spend: 500, conversionValue: 2500 };
    const input = { metric: 'conversion_rate' as const, mde: 0.1, shareB: 0.5, A: ids(constant(28, day)), B: ids(constant(28, day)), windowDays: 28 };
    const plan = planTest(input);
    expect(plan).toMatchObject({ kind: 'days', unit: 'clicks', perA: 31263, perB: 31263, daysOfData: 28 });
    // the days as sampleSize gives them for one variant's 1,000 clicks a day
    const direct = sampleSize({ metric: 'cvr', mde: 0.1, dailyPerVariant: day, recentDaily: constant(28, day) });
    if (!('perVariant' in direct)) throw new Error('not computable');
    expect(plan.kind === 'days' && plan.days).toBe(direct.daysNeeded);
    expect(planSentence(plan, STYLE)).toBe(
      `About 31,300 clicks per variant: ${direct.daysNeeded} days at the last 28 days’ traffic of the chosen ad sets (the always-valid test decides sooner when the effect is larger).`,
    );
    // a quarter to B: A needs 31,263 / 0.5, B 31,263 / 1.5, from the same traffic
    const quarter = planTest({ ...input, shareB: 0.25 });
    expect(quarter).toMatchObject({ kind: 'days', perA: 62526, perB: 20842 });
    expect(planSentence(quarter, STYLE)).toMatch(/^About 62,500 clicks for A and 20,800 for B: /);
  });

  it('from the form data: the chosen ad sets’ days summed, one variant’s worth of traffic per arm', async () => {
    const set = await rolledBackAsApp(app.db, mine.tenantId, (trx) => candidateEntities(trx, mine.tenantId, yesterday, { platform: 'meta', campaignId: 'c1' }));
    const e = (key: string) => set.entities.find((x) => x.key === key) as Candidate;
    const plan = planTest({ metric: 'cpa', mde: 0.2, shareB: 0.5, A: ids(e('adset:as1').daily), B: ids(e('ad:ad1').daily), windowDays: 28 });
    // assembled here from the SQL sums: 28 days with data; per variant half the test's traffic each day
    const sums = await sqlSums(mine.tenantId);
    const as1 = sums.find((x) => x.key === 'adset:as1')!;
    const ad1 = sums.find((x) => x.key === 'ad:ad1')!;
    const per = (k: keyof Omit<SqlSums, 'key' | 'days'>) => ((as1[k] + ad1[k]) / 28) * 0.5;
    const byDay = e('adset:as1').daily.map((d) => {
      const ad = e('ad:ad1').daily.find((x) => x.day === d.day);
      const f = (k: keyof VariantTotals) => (d[k] + (ad?.[k] ?? 0)) * 0.5;
      return { impressions: f('impressions'), clicks: f('clicks'), conversions: f('conversions'), spend: f('spend'), conversionValue: f('conversionValue') };
    });
    const direct = sampleSize({
      metric: 'cpa',
      mde: 0.2,
      dailyPerVariant: { impressions: per('impressions'), clicks: per('clicks'), conversions: per('conversions'), spend: per('spend'), conversionValue: per('conversion_value') },
      recentDaily: byDay,
    });
    if (!('perVariant' in direct)) throw new Error('not computable');
    expect(plan).toMatchObject({ kind: 'days', unit: 'conversions', perA: direct.perVariant, perB: direct.perVariant, days: direct.daysNeeded, varianceSource: 'recent_days' });
  });

  it('variants measured elsewhere: the count from the entered rates, and why the days cannot be estimated', () => {
    const entered = (t: Partial<VariantTotals> | null): ArmTraffic => ({ source: 'entered', totals: t ? { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0, ...t } : null });
    const both = planTest({ metric: 'conversion_rate', mde: 0.1, shareB: 0.5, A: entered({ clicks: 1000, conversions: 50 }), B: entered({ clicks: 1000, conversions: 50 }), windowDays: 28 });
    expect(both).toMatchObject({ kind: 'units', unit: 'clicks', perA: 31263, perB: 31263 });
    expect(planSentence(both, STYLE)).toBe(
      'About 31,300 clicks per variant. The days cannot be estimated: both variants are measured elsewhere, and totals entered by hand do not say how much traffic comes each day.',
    );
    const nothing = planTest({ metric: 'ctr', mde: 0.1, shareB: 0.5, A: entered(null), B: entered(null), windowDays: 28 });
    expect(nothing).toMatchObject({ kind: 'none' });
    expect(planSentence(nothing, STYLE)).toMatch(/^Both variants are measured elsewhere: enter their clicks and impressions so far .* The days cannot be estimated/);
    // CPA needs no rate: 2.8016² × 2 / ln(1.1)² conversions per variant
    const cpa = planTest({ metric: 'cpa', mde: 0.1, shareB: 0.5, A: entered(null), B: entered(null), windowDays: 28 });
    const z = 1.959963984540054 + 0.8416212335729143;
    expect(cpa).toMatchObject({ kind: 'units', unit: 'conversions', perA: Math.ceil((z * z * 2) / Math.log(1.1) ** 2) });

    const day = { impressions: 20000, clicks: 1000, conversions: 50, spend: 500, conversionValue: 2500 };
    const mixed = planTest({ metric: 'conversion_rate', mde: 0.1, shareB: 0.5, A: ids(constant(28, day)), B: entered(null), windowDays: 28 });
    expect(mixed).toMatchObject({ kind: 'days', perA: 31263, caveat: expect.stringMatching(/^Variant B is measured elsewhere, so its traffic is not in the data/) });
    expect(planTest({ metric: 'ctr', mde: 0.1, shareB: 0.5, A: ids([], 0), B: ids(constant(28, day)), windowDays: 28 })).toEqual({
      kind: 'none',
      reason: 'Choose the ids that carry variant A to estimate the sample and the days.',
    });
    expect(planTest({ metric: 'ctr', mde: 0.1, shareB: 0.5, A: ids([]), B: ids([]), windowDays: 28 })).toMatchObject({ kind: 'none', reason: expect.stringMatching(/had no delivery in the last 28 days/) });
  });
});

describe('the edit form as rendered', () => {
  const decode = (v: string) => v.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

  /** The fields a plain post of the rendered form would send (text and hidden inputs, textareas; no checkbox is rendered for a started test). */
  function posted(html: string): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    const put = (k: string, v: string) => {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    };
    for (const m of html.matchAll(/<input\b([^>]*)\/?>/g)) {
      const attrs = m[1]!;
      const name = /\bname="([^"]*)"/.exec(attrs)?.[1];
      if (!name || /type="(checkbox|radio|search)"/.test(attrs)) continue;
      put(name, decode(/\bvalue="([^"]*)"/.exec(attrs)?.[1] ?? ''));
    }
    for (const m of html.matchAll(/<textarea\b[^>]*name="([^"]*)"[^>]*>([^<]*)<\/textarea>/g)) put(m[1]!, decode(m[2]!));
    return out;
  }

  it('a running test’s form, posted back as rendered, is accepted and changes nothing', async () => {
    const today = addDays(yesterday, 1);
    const created = await runTenantAction({
      schema: createAbTestSchema,
      minRole: 'buyer',
      handler: createAbTestHandler,
      userId: mine.buyer.id,
      preferredTenantId: null,
      db: app.db,
      input: {
        name: 'Headline “short” & sharp',
        type: 'creative',
        hypothesis: 'Short headlines\nwin',
        platform: 'meta',
        campaign: 'c1',
        variantA: 'Long',
        variantB: 'Short',
        sourceA: 'ids',
        idsA: ['adset:as1'],
        sourceB: 'entered',
        b_impressions: '900',
        b_clicks: '30',
        b_spend: '12.5',
        metric: 'roas',
        shareB: '33.3',
        allocationUnit: 'impressions',
        mde: '12.25',
        startDate: addDays(today, -3),
        endDate: addDays(today, 25),
        startNow: 'on',
      },
    });
    expect(created.ok, JSON.stringify(created)).toBe(true);
    const id = (created as { data: { id: string } }).data.id;
    const data = (await rolledBackAsApp(app.db, mine.tenantId, (trx) => abTestFormData(trx, mine.tenantId, { testId: id })))!;
    expect(data.test!.status).toBe('running');
    const html = renderToStaticMarkup(createElement(AbTestForm, { data, tenantId: mine.tenantId }));
    expect(html).toContain('Fixed when the test started, so that looking every day keeps the false-winner rate at 5 %.');
    const fields = posted(html);
    expect(fields).toMatchObject({ _tenant: mine.tenantId, id, metric: 'roas', shareB: '33.3', mde: '12.25', allocationUnit: 'impressions', idsA: 'adset:as1', sourceB: 'entered' });
    const again = await runTenantAction({
      schema: updateAbTestSchema,
      minRole: 'buyer',
      handler: updateAbTestHandler,
      userId: mine.buyer.id,
      preferredTenantId: null,
      db: app.db,
      input: fields,
    });
    expect(again).toMatchObject({ ok: true, message: NO_CHANGE });
    // and the same post with a new name saves just that
    const renamed = await runTenantAction({
      schema: updateAbTestSchema,
      minRole: 'buyer',
      handler: updateAbTestHandler,
      userId: mine.buyer.id,
      preferredTenantId: null,
      db: app.db,
      input: { ...fields, name: 'Headline, short' },
    });
    expect(renamed).toMatchObject({ ok: true, message: 'Saved: “Headline, short” (name).' });
  });
});
