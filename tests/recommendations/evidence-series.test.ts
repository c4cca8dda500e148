// The evidence chart: the spec of each type on evidence the engine itself
// wrote (fixtures run through ads_engine.generate_recommendations, then read
// with the queue's own listPending), its baseline and line equal to the
// evidence's numbers and its last rolling value equal to the 7-day figure the
// engine tested; and the query's daily and rolling ratios against numbers
// worked out by hand, with another tenant's rows under the same platform ids.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chartSpec,
  CHART_DAYS,
  dailyPoints,
  evidenceSeries,
  MAX_ROWS,
  type ChartRow,
  type DailySpec,
  type EvidenceChartData,
  type WeekdaySpec,
} from '../../lib/recommendations/evidence-series';
import { listPending, type PendingRecommendation } from '../../lib/recommendations/queries';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, createTenant, inTenant, ownerPool } from '../helpers/db';
import { AS_OF, addDays } from '../engine/fixtures';
import { configure, generate, load, series, setBudget, type Row } from '../engine/findings-data';

const app = appKysely(4);
const owner = ownerPool();
const appRaw = appPool();

const D = AS_OF;
const H42 = addDays(D, -41);
const recent = (day: string) => day > addDays(D, -7);

/** The pending recommendations of a tenant as the queue page reads them, with their charts. */
async function queue(tenant: string): Promise<{ rows: PendingRecommendation[]; charts: Map<string, EvidenceChartData> }> {
  return rolledBackAsApp(app.db, tenant, async (trx) => {
    const { rows } = await listPending(trx, tenant, { pageSize: 100 });
    return { rows, charts: await evidenceSeries(trx, tenant, rows) };
  });
}

/** A fresh tenant, its fixture loaded and the engine run as of D by the app role (committed: the queue reads it later). */
async function engineRun(label: string, seedFn: (c: pg.PoolClient, tenant: string) => Promise<void>): Promise<string> {
  const tenant = await createTenant(owner, `Evidence chart, ${label}`);
  await inTenant(appRaw, tenant, async (c) => {
    c.on('notice', () => undefined);
    await seedFn(c, tenant);
    await generate(c, tenant, D);
  });
  return tenant;
}

const find = (rows: PendingRecommendation[], entity: string, type: string): PendingRecommendation => {
  const r = rows.find((x) => x.entityId === entity && x.type === type);
  if (!r) throw new Error(`no ${type} for ${entity}: ${rows.map((x) => `${x.entityId}:${x.type}`).join(', ')}`);
  return r;
};
const daily = (c: EvidenceChartData | undefined): DailySpec => {
  if (c?.spec.kind !== 'daily') throw new Error(`not a daily chart: ${JSON.stringify(c?.spec)}`);
  return c.spec;
};
const lastPoint = (c: EvidenceChartData) => c.points.at(-1)!;
const windowPoints = (c: EvidenceChartData) => c.points.filter((p) => p.day >= daily(c).window.from && p.day <= daily(c).window.to);

/** The chart's CHART_DAYS ending on the decision window's last day, oldest first. */
function expectDays(c: EvidenceChartData, to: string): void {
  expect(c.points.map((p) => p.day)).toEqual(Array.from({ length: CHART_DAYS }, (_, i) => addDays(to, i - (CHART_DAYS - 1))));
}

// ---------------------------------------------------------------------------
// The spec of each type, on evidence from real runs
// ---------------------------------------------------------------------------

describe('the chart of each type, on what the engine wrote', () => {
  // meta: max_cpa 20, auto_pause_threshold 2 (the pause line is a CPA of 40).
  //  P7: CPA 18 for five weeks, then 100 over the last 7 days. P28: CPA 70 throughout (1.75 x the line for 28 days).
  let pauses: string;
  // meta max_cpa 20: T at CPA 15, then no conversion from D-4 on while spending: a pause naming tracking
  let tracking: string;
  // no target, no conversion in 90 days: a pause with nothing to draw a line from
  let noReference: string;
  // meta target_roas 3 (lines 2.4 / 3.6); google budgets with a target CPA (lines 25 / 25)
  let budgets: string;
  // meta: every campaign's clicks 2.5x dearer over the last week (B's CPA above max);
  // google (pause line 3 x 20): C at CPA 45, above 20 on each day, under the pause line
  let bids: string;
  // meta: F's CTR falls to a third, A's CPM doubles, T converts at 0.35x on weekends
  let signals: string;

  beforeAll(async () => {
    pauses = await engineRun('pauses', async (c, tenant) => {
      await load(c, tenant, [
        ...series({ seed: 'chart-pause', id: 'P7', from: H42, to: D, spend: 300, cpa: (day) => (recent(day) ? 100 : 18) }),
        ...series({ seed: 'chart-pause', id: 'P28', from: H42, to: D, spend: 400, cpa: 70 }),
        ...series({ seed: 'chart-pause', id: 'ok1', from: H42, to: D, spend: 300, cpa: 15 }),
        ...series({ seed: 'chart-pause', id: 'ok2', from: H42, to: D, spend: 200, cpa: 12 }),
      ]);
      await configure(c, tenant, 'meta', { max_cpa: 20, auto_pause_threshold: 2 });
    });
    tracking = await engineRun('tracking', async (c, tenant) => {
      await load(c, tenant, [
        ...series({ seed: 'chart-track', id: 'T', from: H42, to: D, spend: 300, cpa: 15 }).map((r) =>
          r.day >= addDays(D, -4) ? { ...r, conversions: 0, value: 0 } : r,
        ),
        ...series({ seed: 'chart-track', id: 'ok1', from: H42, to: D, spend: 300, cpa: 15 }),
        ...series({ seed: 'chart-track', id: 'ok2', from: H42, to: D, spend: 200, cpa: 12 }),
      ]);
      await configure(c, tenant, 'meta', { max_cpa: 20 });
    });
    noReference = await engineRun('no reference', async (c, tenant) => {
      await load(c, tenant, series({ seed: 'chart-none', id: 'N1', from: H42, to: D, spend: 40, cpa: Infinity }));
    });
    budgets = await engineRun('budgets', async (c, tenant) => {
      const s = 'chart-budget';
      await load(c, tenant, [
        ...series({ seed: s, id: 'Dec', from: H42, to: D, spend: 1500, budget: 3000, cpa: (day) => 60 / (recent(day) ? 1.5 : 3.3) }),
        ...series({ seed: s, id: 'Inc', from: H42, to: D, spend: 700, budget: 500, cpa: 10 }),
        ...series({ seed: s, id: 'Steady', from: H42, to: D, spend: 500, budget: 1000, cpa: 20 }),
        ...series({ seed: s, id: 'DecC', platform: 'google', from: H42, to: D, spend: 1000, budget: 2000, cpa: 45 }),
        ...series({ seed: s, id: 'IncC', platform: 'google', from: H42, to: D, spend: 700, budget: 500, cpa: 15 }),
      ]);
      await configure(c, tenant, 'meta', { target_roas: 3, max_cpa: 60 });
      await configure(c, tenant, 'google', { auto_pause_threshold: 3 });
      for (const [platform, id, b] of [['meta', 'Dec', 3000], ['meta', 'Inc', 500], ['meta', 'Steady', 1000], ['google', 'DecC', 2000], ['google', 'IncC', 500]] as const) {
        await setBudget(c, tenant, platform, id, b);
      }
      await c.query(`update ads.budget_allocation set target_cpa = case campaign_id when 'DecC' then 20 else 30 end where campaign_id in ('DecC', 'IncC')`);
    });
    bids = await engineRun('bids', async (c, tenant) => {
      const s = 'chart-bid';
      const dear = (r: Row): Row =>
        r.platform === 'meta' && recent(r.day) ? { ...r, clicks: Math.round(r.clicks / 2.5), impressions: Math.round(r.impressions / 2.5) } : r;
      await load(c, tenant, [
        ...series({ seed: s, id: 'B', from: H42, to: D, spend: 300, cpa: 26, cpc: 2 }),
        ...series({ seed: s, id: 'G1', from: H42, to: D, spend: 300, cpa: 12, cpc: 2 }),
        ...series({ seed: s, id: 'G2', from: H42, to: D, spend: 300, cpa: 12, cpc: 2 }),
        ...series({ seed: s, id: 'C', platform: 'google', from: H42, to: D, spend: 600, cpa: 45, rateCv: 0.1 }),
        ...series({ seed: s, id: 'S', platform: 'google', from: H42, to: D, spend: 300, cpa: 12 }),
      ].map(dear));
      await configure(c, tenant, 'meta', { max_cpa: 20 });
      await configure(c, tenant, 'google', { max_cpa: 20, auto_pause_threshold: 3 });
    });
    signals = await engineRun('signals', async (c, tenant) => {
      const base = { seed: 'chart-signal', from: H42, to: D, spend: 200, cpa: 15, cpc: 1 };
      const shape = (r: Row): Row =>
        !recent(r.day) ? r
        : r.id === 'F' ? { ...r, impressions: Math.round(r.impressions * 3) }
        : r.id === 'A' ? { ...r, impressions: Math.round(r.impressions / 2), clicks: Math.round(r.clicks / 2) }
        : r;
      await load(c, tenant, [
        ...series({ ...base, id: 'F' }),
        ...series({ ...base, id: 'A' }),
        ...series({ ...base, id: 'T', spend: 400, convWeekday: (dow) => (dow >= 6 ? 0.35 : 1) }),
        ...series({ ...base, id: 'S1' }),
        ...series({ ...base, id: 'S2' }),
      ].map(shape));
      await configure(c, tenant, 'meta', { max_cpa: 30 });
    });
  });

  it('pause: CPA against the pause line (auto_pause_threshold x the limit) and the limit, over 7 or 28 days', async () => {
    const { rows, charts } = await queue(pauses);
    for (const id of ['P7', 'P28']) {
      const r = find(rows, id, 'pause');
      const e = r.evidence as { pause_line: number; cpa_reference: number; cpa_7d: number; window: { from: string; to: string }; span_days: number };
      const c = charts.get(r.id)!;
      expect(daily(c)).toMatchObject({
        metric: 'cpa',
        tested: e.cpa_7d,
        testedLabel: '7-day CPA',
        threshold: { value: e.pause_line, label: 'pause line: 2 × max CPA' },
        baseline: { value: e.cpa_reference, label: 'max CPA' },
        direction: 'above',
        favourable: false,
        window: e.window,
        spanDays: e.span_days,
      });
      expect([e.pause_line, e.cpa_reference, e.window]).toEqual([40, 20, { from: addDays(D, -6), to: D }]);
      expectDays(c, D);
      // the query's rolling ratio of sums on the window's last day is the 7-day CPA the rule saw
      expect(lastPoint(c).rolling).toBeCloseTo(e.cpa_7d, 3);
      expect(lastPoint(c).rolling!).toBeGreaterThan(e.pause_line);
    }
    expect(daily(charts.get(find(rows, 'P7', 'pause').id)).note).toBeNull();
    expect(daily(charts.get(find(rows, 'P28', 'pause').id))).toMatchObject({ spanDays: 28, note: expect.stringMatching(/28 days/) });

  });

  it('pause after a suspected tracking loss: the days without a conversion are infinite CPAs, not gaps', async () => {
    const { rows, charts } = await queue(tracking);
    // no conversion on its last 5 days while it spent: each is an infinite CPA (unbounded), not a gap and not 0
    const t = charts.get(find(rows, 'T', 'pause').id)!;
    expect(daily(t)).toMatchObject({ threshold: { value: 40 }, note: expect.stringMatching(/tracking/) });
    expect(t.points.slice(-5).map((p) => [p.value, p.unbounded, p.delivered])).toEqual(Array(5).fill([null, true, true]));
    expect(t.points.slice(0, -5).every((p) => p.value !== null && p.value > 0 && !p.unbounded)).toBe(true);
  });

  it('pause with no reference at all: no chart, and why', async () => {
    const { rows, charts } = await queue(noReference);
    const r = find(rows, 'N1', 'pause');
    expect(r.evidence).toMatchObject({ reference_source: 'none', test: 'none' });
    expect(charts.get(r.id)).toEqual({ spec: { kind: 'none', reason: expect.stringMatching(/no CPA target/) }, points: [] });
  });

  it('budgets: ROAS against 0.8 x / 1.2 x the target, or CPA against target / 0.8 and / 1.2 without a ROAS target', async () => {
    const { rows, charts } = await queue(budgets);
    const cases = [
      ['Dec', 'budget_decrease', 'roas', 'below', false, 2.4, 3, 'decrease line: 0.8 × target ROAS', 'roas_7d', 'target_roas'],
      ['Inc', 'budget_increase', 'roas', 'above', true, 3.6, 3, 'increase line: 1.2 × target ROAS', 'roas_7d', 'target_roas'],
      ['DecC', 'budget_decrease', 'cpa', 'above', false, 25, 20, 'decrease line: target CPA ÷ 0.8', 'cpa_7d', 'target_cpa'],
      ['IncC', 'budget_increase', 'cpa', 'below', true, 25, 30, 'increase line: target CPA ÷ 1.2', 'cpa_7d', 'target_cpa'],
    ] as const;
    for (const [id, type, metric, direction, favourable, line, target, label, tested, baseKey] of cases) {
      const r = find(rows, id, type);
      const e = r.evidence as Record<string, number> & { window: unknown };
      expect([e.line, e[baseKey]], id).toEqual([line, target]);
      const c = charts.get(r.id)!;
      expect(daily(c), id).toMatchObject({
        metric,
        direction,
        favourable,
        tested: e[tested],
        threshold: { value: e.line, label },
        baseline: { value: e[baseKey] },
        window: e.window,
      });
      expect(lastPoint(c).rolling, id).toBeCloseTo(e[tested]!, 3);
    }
  });

  it('bids: CPC against 1.3 x its own 21 days before; CPA above the max CPA on each of the 7 days', async () => {
    const { rows, charts } = await queue(bids);
    const b = find(rows, 'B', 'bid_adjustment');
    const eb = b.evidence as { rule: string; line: number; cpc_history: number; cpc_7d: number; window: unknown };
    expect(eb.rule).toBe('cpc_up');
    const cb = charts.get(b.id)!;
    expect(daily(cb)).toMatchObject({
      metric: 'cpc',
      tested: eb.cpc_7d,
      threshold: { value: eb.line, label: 'line: 1.3 × CPC before' },
      baseline: { value: eb.cpc_history, label: 'CPC, 21 days before' },
      direction: 'above',
      window: eb.window,
    });
    expect(eb.line).toBeCloseTo(1.3 * eb.cpc_history, 3);
    expect(lastPoint(cb).rolling).toBeCloseTo(eb.cpc_7d, 3);

    const c = find(rows, 'C', 'bid_adjustment');
    const ec = c.evidence as { rule: string; max_cpa: number; cpa_7d: number };
    expect(ec.rule).toBe('cpa_above_max_7d');
    const cc = charts.get(c.id)!;
    expect(daily(cc)).toMatchObject({ metric: 'cpa', tested: ec.cpa_7d, baseline: null, threshold: { value: 20, label: 'max CPA' }, direction: 'above' });
    // what the rule asked, as the chart draws it: every day of the window above the max CPA
    const w = windowPoints(cc);
    expect(w).toHaveLength(7);
    expect(w.every((p) => p.value !== null && p.value > ec.max_cpa)).toBe(true);
    expect(lastPoint(cc).rolling).toBeCloseTo(ec.cpa_7d, 3);
  });

  it('creative, audience and timing: CTR and CPM against their own 21 days; timing as CPA by weekday', async () => {
    const { rows, charts } = await queue(signals);
    const f = find(rows, 'F', 'creative');
    const ef = f.evidence as { line: number; ctr_history: number; ctr_7d: number; recent: { from: string; to: string } };
    const cf = charts.get(f.id)!;
    expect(daily(cf)).toMatchObject({
      metric: 'ctr',
      tested: ef.ctr_7d,
      threshold: { value: ef.line, label: 'line: 0.75 × CTR before' },
      baseline: { value: ef.ctr_history },
      direction: 'below',
      window: { from: ef.recent.from, to: ef.recent.to },
    });
    expect(lastPoint(cf).rolling).toBeCloseTo(ef.ctr_7d, 5);

    // audience: the evidence keeps sums; the CPMs are 1000 x spend / impressions of its parts (current and recommended values)
    const a = find(rows, 'A', 'audience');
    const ea = a.evidence as { line: number; recent: { spend: number; impressions: number; to: string }; history: { spend: number; impressions: number } };
    const ca = charts.get(a.id)!;
    const cpmBefore = (1000 * ea.history.spend) / ea.history.impressions;
    const cpm7 = (1000 * ea.recent.spend) / ea.recent.impressions;
    expect(daily(ca)).toMatchObject({ metric: 'cpm', threshold: { value: ea.line }, direction: 'above', window: { to: D } });
    expect(daily(ca).baseline!.value).toBeCloseTo(cpmBefore, 9);
    expect(daily(ca).baseline!.value).toBeCloseTo(a.recommendedValue!, 3);
    expect(daily(ca).tested!).toBeCloseTo(a.currentValue!, 3);
    expect(daily(ca).threshold.label).toMatch(/^line: 1\.3 × CPM before × [\d.]+ \(the platform's move\)$/);
    expect(lastPoint(ca).rolling).toBeCloseTo(cpm7, 6);

    // timing: the weekday figures of the evidence; a weak day's CPA is at or above cpa_28d / 0.6 (efficiency <= 0.6), the others under it
    const t = find(rows, 'T', 'timing');
    const et = t.evidence as { cpa_28d: number; weak_weekdays: number[]; window: unknown; by_weekday: { isodow: number; spend: number; conversions: number }[] };
    const ct = charts.get(t.id)!;
    expect(ct.points).toEqual([]);
    const spec = ct.spec as WeekdaySpec;
    expect(spec).toMatchObject({ kind: 'weekday', metric: 'cpa', baseline: { value: et.cpa_28d }, window: et.window });
    expect(spec.threshold.value).toBeCloseTo(et.cpa_28d / 0.6, 9);
    expect(spec.bars.map((x) => [x.isodow, x.spend, x.conversions])).toEqual(et.by_weekday.map((x) => [x.isodow, x.spend, x.conversions]));
    expect(spec.bars.filter((x) => x.weak).map((x) => x.isodow)).toEqual(et.weak_weekdays);
    expect(et.weak_weekdays).toEqual([6, 7]);
    for (const x of spec.bars) {
      if (x.weak) expect(x.cpa!, `weekday ${x.isodow}`).toBeGreaterThanOrEqual(spec.threshold.value * (1 - 1e-3));
      else expect(x.cpa!, `weekday ${x.isodow}`).toBeLessThan(spec.threshold.value);
    }
  });
});

// ---------------------------------------------------------------------------
// The query, against numbers worked out by hand
// ---------------------------------------------------------------------------

interface Line {
  level?: 'campaign' | 'adset';
  id: string;
  campaign?: string;
  /** Days before D, both included (0 is D). */
  fromAgo: number;
  toAgo: number;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}

/** Rows of each line on every day of its run, written as the owner in the tenant (committed). */
async function insertLines(tenant: string, lines: Line[]): Promise<void> {
  await inTenant(owner, tenant, async (c) => {
    for (const l of lines) {
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, campaign_id, day, spend, impressions, clicks, conversions, conversion_value)
         select $1, 'meta', $2, $3, $4, $5::date - g, $6, $7, $8, $9, $10 from generate_series($11::int, $12::int) g`,
        [tenant, l.level ?? 'campaign', l.id, l.campaign ?? l.id, D, l.spend, l.impressions, l.clicks, l.conversions, l.value, l.toAgo, l.fromAgo],
      );
    }
  });
}

/** Evidence of a pause decided on the 7 days to D (the shape the engine writes, trimmed to what the chart reads). */
const pauseEvidence = (to = D) => ({
  window: { from: addDays(to, -6), to },
  cpa_7d: 115,
  pause_line: 40,
  cpa_reference: 20,
  auto_pause_threshold: 2,
  reference_source: 'platform_configs.max_cpa',
  span_days: 7,
  test: 'nb_lower',
});
const roasEvidence = { window: { from: addDays(D, -6), to: D }, roas_7d: 0.9, target_roas: 3, line: 2.4, test: 'value_lower', span_days: 7 };
const ctrEvidence = {
  recent: { from: addDays(D, -6), to: D, impressions: 55000, clicks: 280 },
  ctr_7d: 0.005091,
  ctr_history: 0.01,
  line: 0.0075,
  test: 'nb_lower',
};

const rec = (id: string, type: string, evidence: unknown, entityId = 'c1', more: Partial<ChartRow> = {}): ChartRow => ({
  id,
  type,
  platform: 'meta',
  level: 'campaign',
  entityId,
  evidence,
  ...more,
});

describe('evidenceSeries: the daily figures of each target, one query a page', () => {
  let a: string;
  let b: string;
  // c1 in tenant A (days before D):
  //   33..28  spend 100, 10 conversions (CPA 10), 10000 impressions, 100 clicks, value 300
  //   27..8   spend 100,  5 conversions (CPA 20), same delivery
  //   7       no row at all;  6: a row of zeros (no delivery)
  //   5..1    spend 200,  2 conversions (CPA 100), 10000 impressions, 50 clicks, value 200
  //   0       spend 150,  0 conversions, 5000 impressions, 30 clicks, value 0
  // plus an ad set of c1 (campaign rows exist: not added in), and c2 loaded only as two ad sets.
  // Tenant B has c1 too, with other numbers.
  beforeAll(async () => {
    a = await createTenant(owner, 'Evidence series A');
    b = await createTenant(owner, 'Evidence series B');
    const d = { impressions: 10000, clicks: 100, value: 300 };
    await insertLines(a, [
      { id: 'c1', fromAgo: 33, toAgo: 28, spend: 100, conversions: 10, ...d },
      { id: 'c1', fromAgo: 27, toAgo: 8, spend: 100, conversions: 5, ...d },
      { id: 'c1', fromAgo: 6, toAgo: 6, spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 },
      { id: 'c1', fromAgo: 5, toAgo: 1, spend: 200, impressions: 10000, clicks: 50, conversions: 2, value: 200 },
      { id: 'c1', fromAgo: 0, toAgo: 0, spend: 150, impressions: 5000, clicks: 30, conversions: 0, value: 0 },
      { level: 'adset', id: 'c1-a', campaign: 'c1', fromAgo: 33, toAgo: 0, spend: 50, impressions: 1000, clicks: 10, conversions: 1, value: 10 },
      { level: 'adset', id: 'c2-a', campaign: 'c2', fromAgo: 10, toAgo: 0, spend: 60, impressions: 6000, clicks: 30, conversions: 2, value: 120 },
      { level: 'adset', id: 'c2-b', campaign: 'c2', fromAgo: 10, toAgo: 0, spend: 40, impressions: 4000, clicks: 20, conversions: 3, value: 80 },
    ]);
    await insertLines(b, [
      { id: 'c1', fromAgo: 33, toAgo: 0, spend: 999, impressions: 1000, clicks: 1, conversions: 1, value: 1 },
      { id: 'c2', fromAgo: 33, toAgo: 0, spend: 7, impressions: 70, clicks: 7, conversions: 7, value: 7 },
    ]);
  });

  const asA = <T>(fn: Parameters<typeof rolledBackAsApp<T>>[2], tenant = a) => rolledBackAsApp(app.db, tenant, fn);
  const byDay = (c: EvidenceChartData) => new Map(c.points.map((p) => [p.day, p]));
  const ago = (n: number) => addDays(D, -n);

  it('CPA per day and over the 7 days ending each day, ratios of sums (hand-computed)', async () => {
    const charts = await asA((trx) => evidenceSeries(trx, a, [rec('p', 'pause', pauseEvidence())]));
    const c = charts.get('p')!;
    expectDays(c, D);
    const p = byDay(c);
    // each day's own ratio
    expect(p.get(ago(27))).toMatchObject({ value: 20, delivered: true, unbounded: false });
    expect(p.get(ago(8))!.value).toBe(20);
    expect(p.get(ago(3))!.value).toBe(100);
    // days without delivery: null, never 0 or NaN (no row; a row of zeros)
    expect(p.get(ago(7))).toMatchObject({ value: null, delivered: false, unbounded: false });
    expect(p.get(ago(6))).toMatchObject({ value: null, delivered: false, unbounded: false });
    // spent without a conversion: null too, but flagged as infinite
    expect(p.get(D)).toMatchObject({ value: null, delivered: true, unbounded: true });
    // rolling: the first chart day reaches into the 6 days before it: (6 x 100 + 100) / (6 x 10 + 5) = 700 / 65
    expect(p.get(ago(27))!.rolling).toBeCloseTo(700 / 65, 12);
    // ago 14..8: 700 / 35
    expect(p.get(ago(8))!.rolling).toBe(20);
    // ago 8..2: (100 + 0 + 0 + 4 x 200) / (5 + 4 x 2) = 900 / 13, not the average of the daily CPAs
    expect(p.get(ago(2))!.rolling).toBeCloseTo(900 / 13, 12);
    // ago 7..1: 1000 / 10; ago 6..0: 1150 / 10 (the 7-day CPA the evidence states)
    expect(p.get(ago(1))!.rolling).toBe(100);
    expect(p.get(D)!.rolling).toBe(115);
    expect(c.points.every((x) => x.value === null || Number.isFinite(x.value))).toBe(true);
    expect(c.points.every((x) => x.rolling === null || Number.isFinite(x.rolling))).toBe(true);
  });

  it('other metrics from the same rows: ROAS 0 is a value, a day without delivery is not; CTR per day and per week', async () => {
    const charts = await asA((trx) => evidenceSeries(trx, a, [rec('r', 'budget_decrease', roasEvidence), rec('t', 'creative', ctrEvidence)]));
    const r = byDay(charts.get('r')!);
    expect(r.get(ago(20))!.value).toBe(3);
    expect(r.get(ago(3))!.value).toBe(1);
    expect(r.get(D)).toMatchObject({ value: 0, unbounded: false });
    expect(r.get(ago(6))).toMatchObject({ value: null, unbounded: false });
    // ago 6..0: value 5 x 200 / spend 1150
    expect(r.get(D)!.rolling).toBeCloseTo(1000 / 1150, 12);
    const t = byDay(charts.get('t')!);
    expect(t.get(D)!.value).toBeCloseTo(30 / 5000, 12);
    expect(t.get(ago(7))!.value).toBeNull();
    // ago 6..0: clicks 5 x 50 + 30 over impressions 5 x 10000 + 5000
    expect(t.get(D)!.rolling).toBeCloseTo(280 / 55000, 12);
  });

  it("a campaign loaded only as ad sets is their sum; a campaign's own rows are not added to its ad sets'", async () => {
    const charts = await asA((trx) => evidenceSeries(trx, a, [rec('c2', 'pause', pauseEvidence(), 'c2'), rec('c1', 'pause', pauseEvidence())]));
    const c2 = byDay(charts.get('c2')!);
    expect(c2.get(D)!.value).toBe(100 / 5);
    expect(c2.get(ago(11))).toMatchObject({ value: null, delivered: false });
    expect(c2.get(D)!.rolling).toBe(700 / 35);
    expect(byDay(charts.get('c1')!).get(ago(3))!.value).toBe(100);
    // the ad set itself, at its own level
    const as = await asA((trx) => evidenceSeries(trx, a, [rec('s', 'pause', pauseEvidence(), 'c1-a', { level: 'adset' })]));
    expect(as.get('s')!.points.every((p) => p.value === 50)).toBe(true);
  });

  it("another tenant's rows under the same ids never appear, and each tenant sees its own", async () => {
    const rows = [rec('p', 'pause', pauseEvidence())];
    const inA = await asA((trx) => evidenceSeries(trx, a, rows));
    expect(inA.get('p')!.points.some((p) => p.value === 999)).toBe(false);
    const inB = await asA((trx) => evidenceSeries(trx, b, rows), b);
    expect(inB.get('p')!.points.every((p) => p.value === 999 && p.rolling === 999)).toBe(true);
    // B's rows exist (the owner's view), so A's query cannot pass by accident
    const n = await inTenant(owner, b, async (c) => (await c.query(`select count(*)::int as n from ads.metrics_daily where tenant_id = $1 and platform_id = 'c1'`, [b])).rows[0].n as number);
    expect(n).toBe(34);
    // B's tenant id inside A's transaction: row-level security returns nothing, the explicit filter nothing of A's
    const crossed = await asA((trx) => evidenceSeries(trx, b, rows));
    expect(crossed.get('p')!.points.every((p) => p.value === null && p.rolling === null && !p.delivered)).toBe(true);
  });

  it('bounded and validated: at most a page, one read per target, no chart for a row naming no entity or window', async () => {
    const many = Array.from({ length: MAX_ROWS + 1 }, (_, i) => rec(`r${i}`, 'pause', pauseEvidence()));
    await expect(asA((trx) => evidenceSeries(trx, a, many))).rejects.toThrow(/at most 100/);
    const out = await asA((trx) =>
      evidenceSeries(trx, a, [
        rec('x1', 'pause', pauseEvidence()),
        rec('x2', 'bid_adjustment', { ...pauseEvidence(), rule: 'cpa_above_max_7d', max_cpa: 20 }),
        rec('bad-platform', 'pause', pauseEvidence(), 'c1', { platform: 'myspace' }),
        rec('ad-level', 'pause', pauseEvidence(), 'c1', { level: 'ad' }),
        rec('no-entity', 'pause', pauseEvidence(), 'c1', { entityId: null }),
        rec('bad-window', 'pause', { ...pauseEvidence(), window: { from: D, to: '2025-02-30' } }),
        rec('long-window', 'pause', { ...pauseEvidence(), window: { from: addDays(D, -60), to: D } }),
      ]),
    );
    expect(out.get('x2')!.points).toEqual(out.get('x1')!.points);
    for (const id of ['bad-platform', 'ad-level', 'no-entity']) expect(out.get(id), id).toEqual({ spec: { kind: 'none', reason: expect.stringMatching(/names no campaign/) }, points: [] });
    for (const id of ['bad-window', 'long-window']) expect(out.get(id)!.spec, id).toEqual({ kind: 'none', reason: expect.stringMatching(/no decision window/) });
    // nothing to read: no query at all
    expect(await asA((trx) => evidenceSeries(trx, a, []))).toEqual(new Map());
  });
});

// ---------------------------------------------------------------------------
// Pure
// ---------------------------------------------------------------------------

describe('chartSpec and dailyPoints on their own', () => {
  it('labels the factor in the locale, names the limit, and refuses what it cannot draw', () => {
    expect(chartSpec('pause', { ...pauseEvidence(), auto_pause_threshold: 2.5, pause_line: 50 }, 'fr-FR')).toMatchObject({
      threshold: { value: 50, label: 'pause line: 2,5 × max CPA' },
    });
    expect(chartSpec('pause', { ...pauseEvidence(), reference_source: 'tenant_cpa_90d' })).toMatchObject({
      baseline: { label: "the account's 90-day CPA" },
      threshold: { label: "pause line: 2 × the account's 90-day CPA" },
    });
    expect(chartSpec('pause', { ...pauseEvidence(), cpa_7d: null })).toMatchObject({ kind: 'daily', tested: null });
    expect(chartSpec('pause', { ...pauseEvidence(), pause_line: 'NaN' })).toMatchObject({ kind: 'none' });
    expect(chartSpec('pause', { ...pauseEvidence(), pause_line: -3 })).toMatchObject({ kind: 'none' });
    expect(chartSpec('pause', null)).toMatchObject({ kind: 'none' });
    expect(chartSpec('pause', [1, 2])).toMatchObject({ kind: 'none' });
    expect(chartSpec('nonsense', pauseEvidence())).toEqual({ kind: 'none', reason: 'No chart for this type of recommendation.' });
    expect(chartSpec('timing', { window: { from: addDays(D, -27), to: D }, cpa_28d: 20, by_weekday: [{ isodow: 1, spend: 1, conversions: 1 }] })).toMatchObject({
      kind: 'none',
      reason: expect.stringMatching(/weekday figures/),
    });
  });

  it('dailyPoints: a day with no sums is null, zeros stay zeros where the divisor is not 0', () => {
    const m = new Map([
      [D, { spend: 10, impressions: 1000, clicks: 0, conversions: 0, value: 0 }],
      [addDays(D, -1), { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 }],
    ]);
    const cpc = dailyPoints('cpc', m, D);
    expect(cpc).toHaveLength(CHART_DAYS);
    expect(cpc.at(-1)).toEqual({ day: D, value: null, rolling: null, delivered: true, unbounded: true, rollingUnbounded: true });
    expect(cpc.at(-2)).toEqual({ day: addDays(D, -1), value: null, rolling: null, delivered: false, unbounded: false, rollingUnbounded: false });
    expect(dailyPoints('ctr', m, D).at(-1)).toMatchObject({ value: 0, rolling: 0 });
    expect(dailyPoints('cpm', m, D).at(-1)).toMatchObject({ value: 10, rolling: 10 });
  });
});
