// A/B tests, read as the product reads them (lib/abtests, docs/ab-tests.md).
//
// A test measured in cells (catalog.ts) is carried by the platform ids of its
// two test-cell ad sets: each arm's day is the sum of its cells' metric rows
// that day (series.ts drew them), its totals the sum over the test. The
// looks are the test read at the end of each of its days (lookSeries); the
// winner is the one latched at the first look that met the decision rule
// (readLooks), the significance 1 - the running minimum of the always-valid
// p-value. A completed test keeps its latched winner, else 'none'; a running
// one has its latched winner, else none yet.
//
// A test whose totals are entered is read once, from the totals alone, on
// its last day (analyzeAbTest without daily rows, one look).
//
// Either way the design (planned share of B, MDE, allocation unit) is the
// catalogue's, frozen on the first day, and the result must be the one the
// catalogue states (expectWinner, expectDecision): the generation fails
// otherwise.

import { DB_TO_METRIC, lookOf, lookSeries, readLooks, toPerformanceJson, type Look, type Reading } from '../../lib/abtests/model';
import { analyzeAbTest, type AbOptions, type AbTestAnalysis, type DailyTotals, type VariantTotals as Totals } from '../../lib/abtests/stats';
import { AB_TESTS, demoUuid, type AbTestDef, type DemoTenant, type VariantDef } from './catalog';
import { LAST, formatDay } from './dates';
import type { AbTestRow, AbTestStateRow, AbTestVariantRow } from './rows';
import type { GeneratedCampaign, Series } from './series';
import { round2 } from './stats';

/** What a test's data are and how the product reads them. */
export interface AbTestReading {
  options: AbOptions;
  /** Per arm, one entry per day of the test with a row (test cells); empty for entered totals. */
  dailyA: DailyTotals[];
  dailyB: DailyTotals[];
  totalsA: Totals;
  totalsB: Totals;
  /** Every day's look (test cells), or the one look of the entered totals. */
  looks: Look[];
  reading: Reading;
  /** The analysis as of the last day read. */
  analysis: AbTestAnalysis;
}

/** The design's options, as the product passes them to the statistics. */
export function abOptions(t: AbTestDef): AbOptions {
  return { plannedShareB: t.plannedShareB, mde: t.mde, allocationUnit: t.measuredBy === 'cells' ? 'spend' : 'impressions' };
}

/** One arm's days: the sum of its cells' rows per day (cents and counts summed exactly, then money in units). */
function armDays(cells: readonly Series[], days: readonly string[], from: number, to: number): { daily: DailyTotals[]; totals: Totals } {
  const daily: DailyTotals[] = [];
  const sum = { impressions: 0, clicks: 0, conversions: 0, spend: 0, value: 0 };
  for (let i = from; i <= to; i++) {
    const live = cells.filter((s) => s.live[i]);
    if (live.length === 0) continue;
    const d = { impressions: 0, clicks: 0, conversions: 0, spend: 0, value: 0 };
    for (const s of live) {
      d.impressions += s.impressions[i] ?? 0;
      d.clicks += s.clicks[i] ?? 0;
      d.conversions += s.conversions[i] ?? 0;
      d.spend += s.spend[i] ?? 0;
      d.value += s.value[i] ?? 0;
    }
    daily.push({ day: days[i] ?? '', impressions: d.impressions, clicks: d.clicks, conversions: d.conversions, spend: d.spend / 100, conversionValue: d.value / 100 });
    for (const k of ['impressions', 'clicks', 'conversions', 'spend', 'value'] as const) sum[k] += d[k];
  }
  return {
    daily,
    totals: { impressions: sum.impressions, clicks: sum.clicks, conversions: sum.conversions, spend: sum.spend / 100, conversionValue: sum.value / 100 },
  };
}

/** An entered variant: its clicks at the catalogue's rates, money to the cent. */
function enteredTotals(t: AbTestDef, v: VariantDef): Totals {
  if (v.clicks === undefined) throw new Error(`A/B test '${t.name}': an entered variant needs its clicks`);
  const conversions = Math.round(v.clicks * v.cvr);
  return {
    impressions: Math.round(v.clicks / v.ctr),
    clicks: v.clicks,
    conversions,
    spend: round2(v.clicks * v.cpc),
    conversionValue: round2(conversions * v.valuePerConversion),
  };
}

/**
 * Reads test k of the tenant's catalogue from the generated data. days: the
 * history's days (index 0 .. LAST); startDay, lastDay: its first day and the
 * last day read (its end, or yesterday for a test still running).
 */
export function readAbTest(
  t: AbTestDef,
  k: number,
  campaign: GeneratedCampaign,
  days: readonly string[],
  startDay: string,
  lastDay: string,
): AbTestReading {
  const metric = DB_TO_METRIC[t.primaryMetric];
  const options = abOptions(t);
  if (t.measuredBy === 'entered') {
    const totalsA = enteredTotals(t, t.a);
    const totalsB = enteredTotals(t, t.b);
    const analysis = analyzeAbTest(metric, { totals: totalsA }, { totals: totalsB }, options);
    const looks = [lookOf(lastDay, analysis)];
    return { options, dailyA: [], dailyB: [], totalsA, totalsB, looks, reading: readLooks(looks), analysis };
  }
  const cells = campaign.layout.testCells.map((c, j) => ({ c, s: campaign.cellSeries[j] })).filter((x) => x.c.test === k);
  const of = (arm: 'A' | 'B') => cells.filter((x) => x.c.arm === arm).map((x) => x.s).filter((s): s is Series => s !== undefined);
  const from = days.indexOf(startDay);
  const to = days.indexOf(lastDay);
  if (from < 0 || to < from || of('A').length === 0 || of('B').length === 0) throw new Error(`A/B test '${t.name}': no test cells on its days`);
  const a = armDays(of('A'), days, from, to);
  const b = armDays(of('B'), days, from, to);
  const looks = lookSeries(metric, a.daily, b.daily, options, { from: startDay, to: lastDay });
  const analysis = analyzeAbTest(metric, { totals: a.totals, daily: a.daily }, { totals: b.totals, daily: b.daily }, options);
  return { options, dailyA: a.daily, dailyB: b.daily, totalsA: a.totals, totalsB: b.totals, looks, reading: readLooks(looks), analysis };
}

/** generated: the tenant's campaigns in catalogue order; days: the history's days; today: epoch day. */
export function generateAbTests(tenant: DemoTenant, generated: readonly GeneratedCampaign[], days: readonly string[], today: number): AbTestRow[] {
  return AB_TESTS[tenant.vertical].map((t, k): AbTestRow => {
    const campaign = generated[t.campaignIndex];
    if (!campaign) throw new Error(`A/B test '${t.name}': no campaign ${t.campaignIndex}`);
    const startDate = formatDay(today - t.startDaysAgo);
    const endDate = t.endDaysAgo === null ? null : formatDay(today - t.endDaysAgo);
    const lastDay = endDate ?? days[LAST] ?? '';
    const r = readAbTest(t, k, campaign, days, startDate, lastDay);
    const latched = r.reading.winner;
    const winner: AbTestRow['winner'] = t.status === 'completed' ? (latched ?? 'none') : latched;
    const decision = r.analysis.decision.status;
    if (winner !== t.expectWinner || (t.status === 'running' && decision !== t.expectDecision)) {
      throw new Error(
        `A/B test '${t.name}': read as winner ${winner} (${decision}: ${r.analysis.decision.message}), ` +
          `the catalogue says ${t.expectWinner}${t.status === 'running' ? ` (${t.expectDecision})` : ''}`,
      );
    }
    const variants: AbTestVariantRow[] = campaign.layout.testCells
      .filter((c) => c.test === k)
      .map((c) => ({ arm: c.arm, level: 'adset', platformId: c.id }));
    const state: AbTestStateRow = {
      asOf: lastDay,
      decision,
      message: r.analysis.decision.message,
      minPSeq: r.reading.minPSeq,
      winnerDay: r.reading.winnerDay,
    };
    return {
      id: demoUuid('ab_test', tenant.no, k + 1),
      testName: t.name,
      platform: campaign.layout.def.platform,
      campaignId: campaign.layout.id,
      testType: t.testType,
      hypothesis: t.hypothesis,
      primaryMetric: t.primaryMetric,
      variantA: t.variantA,
      variantB: t.variantB,
      performanceA: toPerformanceJson(r.totalsA),
      performanceB: toPerformanceJson(r.totalsB),
      winner,
      statisticalSignificance: r.reading.significance,
      status: t.status,
      startDate,
      endDate,
      design: {
        plannedShareB: t.plannedShareB,
        mde: t.mde,
        allocationUnit: r.options.allocationUnit ?? 'spend',
        frozenDay: startDate,
      },
      variants,
      state,
    };
  });
}
