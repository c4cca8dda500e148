// entitySums (lib/performance/entity-sums.ts) on random data: whole weeks from
// ads_engine.metrics_entity_weekly plus edge days from ads.metrics_daily must
// equal a plain sum ... group by over ads.metrics_daily, to the cent, for any
// range (inside one week, on Mondays and Sundays, across the year end, partly
// outside the data), level, platforms and campaign filter; another tenant
// holding the same ids with far larger figures never shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../db/seed/random';
import { withTenant } from '../../lib/db/pool';
import { entitySums, splitRange, type DayRange, type EntitySums } from '../../lib/performance/entity-sums';
import { addDays, daysInclusive } from '../../lib/performance/filters';
import type { Totals } from '../../lib/performance/metrics';
import { appKysely } from '../helpers/app-db';
import { createTenant, ownerPool, setTenant } from '../helpers/db';

const app = appKysely();
const owner = ownerPool();

const FIRST_DAY = '2024-11-11'; // a Monday
const DAYS = 120; // to 2025-03-10, across the year end
const PLATFORMS = ['meta', 'google', 'tiktok'] as const;
const FIGURES = ['spend', 'impressions', 'clicks', 'conversions', 'value'] as const;

interface Row {
  platform: string;
  level: 'campaign' | 'adset';
  platformId: string;
  campaignId: string | null;
  day: string;
  spend: string;
  impressions: number;
  clicks: number;
  conversions: string;
  value: string;
}

/**
 * Per platform 5 campaigns of 3 ad sets each, on ~80 % of the days, with cents. Some ad sets change campaign for a
 * stretch of days (within weeks and across them), some name none (NULL) or '' on some days.
 */
function dataset(seed: number, scale = 1): Row[] {
  const rnd = mulberry32(seed);
  const money = (max: number) => (Math.floor(rnd() * max * 100 * scale) / 100).toFixed(2);
  const rows: Row[] = [];
  for (const platform of PLATFORMS) {
    for (let c = 0; c < 5; c++) {
      const campaign = `${platform[0]}c${c}`;
      const adsets = [0, 1, 2].map((a) => `${campaign}a${a}`);
      for (let d = 0; d < DAYS; d++) {
        const day = addDays(FIRST_DAY, d);
        const figures = () => ({
          day,
          spend: rnd() < 0.05 ? '0.00' : money(900),
          impressions: Math.floor(rnd() * 80_000),
          clicks: Math.floor(rnd() * 1200),
          conversions: money(40),
          value: money(5000),
        });
        if (rnd() < 0.8) rows.push({ platform, level: 'campaign', platformId: campaign, campaignId: campaign, ...figures() });
        adsets.forEach((adset, a) => {
          if (rnd() >= 0.8) return;
          let parent: string | null = campaign;
          // ad set 1 of campaigns 0, 2, 4 moves to the next campaign (4 to 0) for days 20..45 (a Sunday to a Thursday) and 65..67 (a Wednesday to a Friday)
          if (a === 1 && c % 2 === 0 && ((d >= 20 && d <= 45) || (d >= 65 && d <= 67))) parent = `${platform[0]}c${(c + 1) % 5}`;
          // ad set 2 of campaign 3 names no campaign on some days, an empty one on others
          if (a === 2 && c === 3 && d % 9 === 0) parent = null;
          if (a === 2 && c === 3 && d % 9 === 4) parent = '';
          rows.push({ platform, level: 'adset', platformId: adset, campaignId: parent, ...figures() });
        });
      }
    }
  }
  return rows;
}

async function load(tenant: string, rows: Row[]): Promise<void> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await setTenant(c, tenant);
    await c.query(
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, campaign_id, day, spend, impressions, clicks, conversions, conversion_value)
       select $1::uuid, r.* from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::numeric[], $8::bigint[], $9::bigint[],
                                        $10::numeric[], $11::numeric[]) r`,
      [
        tenant,
        rows.map((r) => r.platform),
        rows.map((r) => r.level),
        rows.map((r) => r.platformId),
        rows.map((r) => r.campaignId),
        rows.map((r) => r.day),
        rows.map((r) => r.spend),
        rows.map((r) => r.impressions),
        rows.map((r) => r.clicks),
        rows.map((r) => r.conversions),
        rows.map((r) => r.value),
      ],
    );
    await c.query('commit');
  } finally {
    c.release();
  }
}

interface Scope {
  level: 'campaign' | 'adset';
  platforms: string[];
  campaignId?: string;
}

type TruthRow = { key: string; spend: string; impressions: string; clicks: string; conversions: string; value: string };

/** The independent truth: sum ... group by over ads.metrics_daily, per range, as numeric text (read as the owner). */
async function truth(tenant: string, scope: Scope, ranges: DayRange[]): Promise<Map<string, TruthRow>[]> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await setTenant(c, tenant);
    const out: Map<string, TruthRow>[] = [];
    for (const r of ranges) {
      const filter = scope.campaignId === undefined ? '' : scope.level === 'adset' ? 'and campaign_id = $6' : 'and platform_id = $6';
      const res = await c.query<TruthRow>(
        `select platform || '|' || platform_id as key, sum(spend)::text as spend, sum(impressions)::text as impressions, sum(clicks)::text as clicks,
                sum(conversions)::text as conversions, sum(conversion_value)::text as value
         from ads.metrics_daily
         where tenant_id = $1 and level = $2 and ($3::text[] = '{}' or platform = any($3::text[])) and day between $4::date and $5::date ${filter}
         group by platform, platform_id`,
        [tenant, scope.level, scope.platforms, r.from, r.to, ...(scope.campaignId === undefined ? [] : [scope.campaignId])],
      );
      out.push(new Map(res.rows.map((x) => [x.key, x])));
    }
    await c.query('commit');
    return out;
  } finally {
    c.release();
  }
}

/** Exact integer cents (or units) of a numeric text such as '-12.3' or '4500.07'. */
function cents(text: string): bigint {
  const [whole, frac = ''] = text.split('.');
  const sign = whole!.startsWith('-') ? -1n : 1n;
  return sign * (BigInt(whole!.replace('-', '')) * 100n + BigInt((frac + '00').slice(0, 2)));
}

async function sumsOf(tenant: string, scope: Scope, ranges: DayRange[], asTenant = tenant): Promise<Map<string, EntitySums>> {
  return withTenant(
    asTenant,
    async (trx) => entitySums(trx, tenant, scope.level, scope.platforms, scope.campaignId, ranges),
    {},
    app.db,
  );
}

/** entitySums equals the truth for every entity and range: same entities, every figure the same double and the same cents. */
async function expectExact(tenant: string, scope: Scope, ranges: DayRange[]): Promise<number> {
  const [got, want] = await Promise.all([sumsOf(tenant, scope, ranges), truth(tenant, scope, ranges)]);
  const keys = new Set(want.flatMap((m) => [...m.keys()]));
  const label = `${scope.level} ${scope.platforms.join(',') || 'all'} ${scope.campaignId ?? '-'} ${ranges.map((r) => `${r.from}..${r.to}`).join(' ')}`;
  expect([...got.keys()].sort(), label).toEqual([...keys].sort());
  for (const [key, e] of got) {
    expect(`${e.platform}|${e.platformId}`).toBe(key);
    expect(e.ranges).toHaveLength(ranges.length);
    e.ranges.forEach((t: Totals, i) => {
      const w = want[i]!.get(key);
      for (const f of FIGURES) {
        const exact = w ? w[f] : '0';
        expect(t[f], `${label} ${key} range ${i} ${f}`).toBe(Number(exact));
        expect(BigInt(Math.round(t[f] * 100)), `${label} ${key} range ${i} ${f} cents`).toBe(cents(exact));
      }
    });
  }
  return keys.size;
}

let tenant: string;
let other: string;

beforeAll(async () => {
  tenant = await createTenant(owner, 'Entity sums');
  other = await createTenant(owner, 'Entity sums, other tenant');
  await load(tenant, dataset(20_250_101));
  // The same ids and days with 1000x larger figures.
  await load(other, dataset(77, 1000));
});

afterAll(async () => {
  await owner.query('delete from saas.tenants where id = any($1::uuid[])', [[tenant, other]]);
});

describe('splitRange', () => {
  it('covers each day of a range exactly once: whole ISO weeks (Monday to Sunday) and at most two runs of edge days', () => {
    const rnd = mulberry32(5);
    for (let n = 0; n < 2000; n++) {
      const from = addDays('2024-12-01', Math.floor(rnd() * 60) - 30);
      const to = addDays(from, Math.floor(rnd() * 90));
      const { weeks, days } = splitRange({ from, to });
      const covered: string[] = [];
      if (weeks) {
        expect(new Date(`${weeks.from}T00:00:00Z`).getUTCDay()).toBe(1);
        expect(new Date(`${weeks.to}T00:00:00Z`).getUTCDay()).toBe(1);
        for (let d = weeks.from; d <= addDays(weeks.to, 6); d = addDays(d, 1)) covered.push(d);
      }
      expect(days.length).toBeLessThanOrEqual(weeks ? 2 : 1);
      for (const r of days) for (let d = r.from; d <= r.to; d = addDays(d, 1)) covered.push(d);
      covered.sort();
      expect(covered).toHaveLength(daysInclusive(from, to));
      expect(covered[0]).toBe(from);
      expect(covered.at(-1)).toBe(to);
      expect(new Set(covered).size).toBe(covered.length);
      // No whole week left to the days.
      if (!weeks) expect(daysInclusive(from, to)).toBeLessThan(13);
    }
    expect(splitRange({ from: '2024-12-30', to: '2025-01-05' })).toEqual({ weeks: { from: '2024-12-30', to: '2024-12-30' }, days: [] });
    expect(splitRange({ from: '2024-12-31', to: '2025-01-05' })).toEqual({ weeks: null, days: [{ from: '2024-12-31', to: '2025-01-05' }] });
    expect(splitRange({ from: '2024-12-28', to: '2025-01-07' })).toEqual({
      weeks: { from: '2024-12-30', to: '2024-12-30' },
      days: [
        { from: '2024-12-28', to: '2024-12-29' },
        { from: '2025-01-06', to: '2025-01-07' },
      ],
    });
    expect(() => splitRange({ from: '2025-01-02', to: '2025-01-01' })).toThrow(/not a range/);
  });
});

describe('entitySums equals sum ... group by over ads.metrics_daily', () => {
  // Hand-picked ranges: inside one week, one whole week, Monday and Sunday edges, across the year end, single days,
  // the whole data, and ranges reaching outside it.
  const PICKED: DayRange[] = [
    { from: '2024-12-31', to: '2025-01-02' }, // Tuesday to Thursday, one week, across the year end
    { from: '2024-12-30', to: '2025-01-05' }, // exactly the ISO week 2025-W01
    { from: '2024-12-23', to: '2025-01-12' }, // three whole weeks
    { from: '2024-12-30', to: '2025-01-08' }, // starts on a Monday
    { from: '2024-12-26', to: '2025-01-19' }, // ends on a Sunday
    { from: '2025-01-06', to: '2025-01-06' }, // a Monday
    { from: '2025-01-05', to: '2025-01-05' }, // a Sunday
    { from: '2024-12-29', to: '2024-12-30' }, // Sunday and Monday
    { from: FIRST_DAY, to: addDays(FIRST_DAY, DAYS - 1) }, // everything
    { from: '2024-10-01', to: '2024-11-20' }, // starts before the data
    { from: '2025-02-20', to: '2025-04-30' }, // ends after it
    { from: '2025-06-02', to: '2025-06-29' }, // no data at all
  ];

  it('for hand-picked ranges, each with the range of the same length before it, at both levels', async () => {
    for (const level of ['campaign', 'adset'] as const) {
      for (const r of PICKED) {
        const days = daysInclusive(r.from, r.to);
        const before = { from: addDays(r.from, -days), to: addDays(r.from, -1) };
        await expectExact(tenant, { level, platforms: [] }, [r, before]);
      }
    }
    // Campaigns exist on every platform; the everything range sees all 15 of them, and 45 ad sets.
    expect(await expectExact(tenant, { level: 'campaign', platforms: [] }, [PICKED[8]!])).toBe(15);
    expect(await expectExact(tenant, { level: 'adset', platforms: [] }, [PICKED[8]!])).toBe(45);
    expect(await expectExact(tenant, { level: 'adset', platforms: [] }, [PICKED[11]!])).toBe(0);
  });

  it('for 300 random ranges of 1 to 90 days, platforms and campaign filters, with several ranges at once', async () => {
    const rnd = mulberry32(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const platformSets: string[][] = [[], ['meta'], ['google', 'tiktok'], ['meta', 'google', 'tiktok'], ['linkedin']];
    let entities = 0;
    for (let n = 0; n < 300; n++) {
      const length = 1 + Math.floor(rnd() * 90);
      const from = addDays(FIRST_DAY, Math.floor(rnd() * (DAYS + 20)) - 10);
      const period = { from, to: addDays(from, length - 1) };
      // The page's pair (the period, then the comparison just before it), sometimes a third range of another length.
      const ranges: DayRange[] = [period, { from: addDays(from, -length), to: addDays(from, -1) }];
      if (n % 5 === 0) {
        const f = addDays(FIRST_DAY, Math.floor(rnd() * DAYS));
        ranges.push({ from: f, to: addDays(f, Math.floor(rnd() * 60)) });
      }
      const level = pick(['campaign', 'adset'] as const);
      const platforms = pick(platformSets);
      // A campaign's ad sets (moved ones included), or the campaign's own row.
      const campaignId = n % 3 === 0 ? `${pick(PLATFORMS)[0]}c${Math.floor(rnd() * 5)}` : undefined;
      entities += await expectExact(tenant, { level, platforms, campaignId }, ranges);
    }
    expect(entities).toBeGreaterThan(1000);
  });

  it('with a campaign filter on ad sets: the ones that moved in or out for some days count only those days; an empty parent is exact too', async () => {
    const everything = { from: FIRST_DAY, to: addDays(FIRST_DAY, DAYS - 1) };
    const aroundMoves: DayRange[] = [
      everything,
      { from: addDays(FIRST_DAY, 18), to: addDays(FIRST_DAY, 50) },
      { from: addDays(FIRST_DAY, 63), to: addDays(FIRST_DAY, 69) },
      { from: addDays(FIRST_DAY, 65), to: addDays(FIRST_DAY, 67) },
    ];
    // mc1 receives mc0a1 for its stretches; mc0 keeps it the other days, and receives mc4a1 for the same stretches.
    expect(await expectExact(tenant, { level: 'adset', platforms: [], campaignId: 'mc1' }, aroundMoves)).toBe(4);
    expect(await expectExact(tenant, { level: 'adset', platforms: ['meta'], campaignId: 'mc0' }, aroundMoves)).toBe(4);
    expect(await expectExact(tenant, { level: 'adset', platforms: ['meta'], campaignId: 'mc4' }, aroundMoves)).toBe(3); // its own three, mc4a1 only on the other days
    // '' (the rollup keeps NULL parents under '' too): read from the days, still exactly the rows named ''.
    expect(await expectExact(tenant, { level: 'adset', platforms: [], campaignId: '' }, aroundMoves)).toBe(3);
    await expectExact(tenant, { level: 'adset', platforms: [], campaignId: 'nope' }, aroundMoves);
    await expectExact(tenant, { level: 'campaign', platforms: [], campaignId: 'gc2' }, aroundMoves);
  });

  it('includes nothing of another tenant', async () => {
    // The other tenant's rows exist (1000x the figures) ...
    const seen = await owner.query('select count(*)::int as n from ads.metrics_daily where tenant_id = $1', [other]);
    expect(seen.rows[0].n).toBeGreaterThan(5000);
    // ... are its own in its transaction ...
    await expectExact(other, { level: 'campaign', platforms: [] }, PICKED.slice(0, 3));
    // ... and never reach this tenant's: asking for this tenant from the other's transaction gives nothing (RLS),
    // and this tenant's sums are the truth over its own rows (above), which the other's would change a thousandfold.
    const cross = await sumsOf(tenant, { level: 'campaign', platforms: [] }, [PICKED[8]!], other);
    expect(cross.size).toBe(0);
    const mine = await sumsOf(tenant, { level: 'campaign', platforms: [] }, [PICKED[8]!]);
    const theirs = await sumsOf(other, { level: 'campaign', platforms: [] }, [PICKED[8]!], other);
    for (const [key, e] of mine) expect(e.ranges[0]!.spend * 100).toBeLessThan(theirs.get(key)!.ranges[0]!.spend);
  });

  it('nothing for no ranges; refuses a range that ends before it starts', async () => {
    expect((await sumsOf(tenant, { level: 'campaign', platforms: [] }, [])).size).toBe(0);
    await expect(sumsOf(tenant, { level: 'campaign', platforms: [] }, [{ from: '2025-01-02', to: '2025-01-01' }])).rejects.toThrow(/not a range/);
  });
});
