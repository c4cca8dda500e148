// The rollups of db/media_buying/055_rollups.sql, ads_engine.metrics_platform_daily
// (per platform and day) and ads_engine.metrics_entity_weekly (per entity, parent
// and ISO week): after every kind of write to ads.metrics_daily each equals its
// SELECT ... GROUP BY over it, figure for figure as numeric text; tenants see
// only their own totals and cannot write them; concurrent loads of the same
// group add up; the deployment repairs rollups that missed writes.
import path from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../db/seed/random';
import { dbDir, readSqlFile } from '../../db/tools/migrate';
import { appPool, createTenant, errorOf, ownerPool, queryRows, rollback, runSql, scratchDatabase, setTenant } from '../helpers/db';

const PLATFORMS = ['meta', 'google', 'tiktok', 'linkedin'] as const;
const LEVELS = ['campaign', 'adset'] as const;

interface MetricsRow {
  platform: string;
  level: string;
  platformId: string;
  day: string;
  spend: string;
  impressions: number;
  clicks: number;
  conversions: string;
  value: string;
  /** The parent campaign (ads.metrics_daily.campaign_id); absent: NULL (a campaign row then names itself). */
  campaignId?: string | null;
}

// The truth: the page's query over ads.metrics_daily, with the row count.
const TRUTH = `
  select tenant_id::text as tenant_id, level::text as level, platform::text as platform, to_char(day, 'YYYY-MM-DD') as day,
         sum(spend)::text as spend, sum(impressions)::text as impressions, sum(clicks)::text as clicks,
         sum(conversions)::text as conversions, sum(conversion_value)::text as conversion_value, count(*)::int as rows
  from ads.metrics_daily where tenant_id = any($1::uuid[])
  group by 1, 2, 3, 4 order by 1, 2, 3, 4`;
const ROLLUP = `
  select tenant_id::text as tenant_id, level::text as level, platform::text as platform, to_char(day, 'YYYY-MM-DD') as day,
         spend::text as spend, impressions::text as impressions, clicks::text as clicks,
         conversions::text as conversions, conversion_value::text as conversion_value, rows
  from ads_engine.metrics_platform_daily where tenant_id = any($1::uuid[])
  order by 1, 2, 3, 4`;

// The weekly truth: per entity, its parent ('' for none) and ISO week (Monday), computed here with date_trunc as the reads will.
const WEEKLY_TRUTH = `
  select tenant_id::text as tenant_id, level::text as level, platform::text as platform,
         to_char(date_trunc('week', day), 'YYYY-MM-DD') as week, platform_id, coalesce(campaign_id, '') as campaign_id,
         sum(spend)::text as spend, sum(impressions)::text as impressions, sum(clicks)::text as clicks,
         sum(conversions)::text as conversions, sum(conversion_value)::text as conversion_value, count(*)::int as rows
  from ads.metrics_daily where tenant_id = any($1::uuid[])
  group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6`;
const WEEKLY = `
  select tenant_id::text as tenant_id, level::text as level, platform::text as platform, to_char(week, 'YYYY-MM-DD') as week,
         platform_id, campaign_id, spend::text as spend, impressions::text as impressions, clicks::text as clicks,
         conversions::text as conversions, conversion_value::text as conversion_value, rows
  from ads_engine.metrics_entity_weekly where tenant_id = any($1::uuid[])
  order by 1, 2, 3, 4, 5, 6`;

/** Asserts the weekly rollup equals its GROUP BY for these tenants, as this connection sees both; returns the number of groups. */
async function expectWeeklyExact(c: pg.ClientBase, tenants: string[]): Promise<number> {
  const truth = (await c.query(WEEKLY_TRUTH, [tenants])).rows;
  const rollup = (await c.query(WEEKLY, [tenants])).rows;
  expect(rollup).toEqual(truth);
  return truth.length;
}

/**
 * Asserts both rollups equal their GROUP BY for these tenants, as this connection sees them; returns the number of
 * daily groups (the weekly ones: expectWeeklyExact).
 */
async function expectExact(c: pg.ClientBase, tenants: string[]): Promise<number> {
  const truth = (await c.query(TRUTH, [tenants])).rows;
  const rollup = (await c.query(ROLLUP, [tenants])).rows;
  expect(rollup).toEqual(truth);
  await expectWeeklyExact(c, tenants);
  return truth.length;
}

const INSERT = `
  insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value, campaign_id)
  select $1::uuid, r.*
  from unnest($2::text[], $3::text[], $4::text[], $5::date[], $6::numeric[], $7::bigint[], $8::bigint[], $9::numeric[], $10::numeric[], $11::text[]) r`;
// A restatement may name another parent too (an ad set moved between campaigns).
const UPSERT = `${INSERT}
  on conflict (tenant_id, platform, level, platform_id, day) do update
    set spend = excluded.spend, impressions = excluded.impressions, clicks = excluded.clicks,
        conversions = excluded.conversions, conversion_value = excluded.conversion_value, campaign_id = excluded.campaign_id`;

/** One statement (one firing of the statement-level trigger) for all the rows. */
async function load(c: pg.ClientBase, tenant: string, rows: MetricsRow[], text = INSERT): Promise<number> {
  const r = await c.query(text, [
    tenant,
    rows.map((x) => x.platform),
    rows.map((x) => x.level),
    rows.map((x) => x.platformId),
    rows.map((x) => x.day),
    rows.map((x) => x.spend),
    rows.map((x) => x.impressions),
    rows.map((x) => x.clicks),
    rows.map((x) => x.conversions),
    rows.map((x) => x.value),
    rows.map((x) => x.campaignId ?? null),
  ]);
  return r.rowCount ?? 0;
}

function row(
  platform: string,
  level: string,
  platformId: string,
  day: string,
  spend: string,
  conversions = '1.50',
  value = '120.25',
  campaignId: string | null = null,
): MetricsRow {
  return { platform, level, platformId, day, spend, impressions: 1000, clicks: 40, conversions, value, campaignId };
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Distinct random rows from a seeded generator: amounts with cents, counts, over a few platforms, levels, entities and days. */
function randomRows(seed: number, n: number, entities = 200, days = 30): MetricsRow[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const seen = new Set<string>();
  const rows: MetricsRow[] = [];
  while (rows.length < n) {
    const r: MetricsRow = {
      platform: pick(PLATFORMS),
      level: pick(LEVELS),
      platformId: `e${Math.floor(rnd() * entities)}`,
      day: addDays('2024-03-01', Math.floor(rnd() * days)),
      spend: (rnd() * 500).toFixed(2),
      impressions: Math.floor(rnd() * 50_000),
      clicks: Math.floor(rnd() * 900),
      conversions: (rnd() * 20).toFixed(2),
      value: (rnd() * 3000).toFixed(2),
    };
    // Ad sets of a few campaigns, one in ten without a parent; campaigns name themselves (the default).
    if (r.level === 'adset') r.campaignId = rnd() < 0.1 ? null : `c${Math.floor(rnd() * 7)}`;
    const key = `${r.platform}|${r.level}|${r.platformId}|${r.day}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(r);
  }
  return rows;
}

let owner: pg.Pool;
let app: pg.Pool;
let tenant: string;
let other: string;

beforeAll(async () => {
  owner = ownerPool();
  app = appPool();
  tenant = await createTenant(owner, 'Rollup tenant');
  other = await createTenant(owner, 'Rollup tenant, other');
});

describe('ads_engine.metrics_platform_daily follows ads.metrics_daily exactly', () => {
  it('after inserts, upserts, restatements, moves and deletes by the app role', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await load(c, tenant, [
        row('meta', 'campaign', 'c1', '2024-05-01', '100.10'),
        row('meta', 'campaign', 'c2', '2024-05-01', '50.05'),
        row('meta', 'campaign', 'c1', '2024-05-02', '10.00'),
        row('google', 'campaign', 'g1', '2024-05-01', '0.00', '0.00', '0.00'),
        row('meta', 'adset', 'a1', '2024-05-01', '33.33'),
      ]);
      expect(await expectExact(c, [tenant])).toBe(4);
      // Worked out by hand: meta campaign 2024-05-01 is c1 + c2.
      const g = await c.query(
        `select spend::text, impressions::text, conversions::text, conversion_value::text, rows from ads_engine.metrics_platform_daily
         where tenant_id = $1 and level = 'campaign' and platform = 'meta' and day = '2024-05-01'`,
        [tenant],
      );
      expect(g.rows).toEqual([{ spend: '150.15', impressions: '2000', conversions: '3.00', conversion_value: '240.50', rows: 2 }]);

      // A load that restates c1 (ON CONFLICT DO UPDATE: the update trigger) and adds c3 (the insert trigger).
      await load(c, tenant, [row('meta', 'campaign', 'c1', '2024-05-01', '120.00', '4.00', '400.00'), row('meta', 'campaign', 'c3', '2024-05-01', '7.77')], UPSERT);
      await expectExact(c, [tenant]);
      expect((await c.query(`select spend::text, rows from ads_engine.metrics_platform_daily where tenant_id = $1 and level = 'campaign' and platform = 'meta' and day = '2024-05-01'`, [tenant])).rows).toEqual([
        { spend: '177.82', rows: 3 },
      ]);

      // Restated conversions, several groups in one statement.
      await c.query(`update ads.metrics_daily set conversions = conversions + 0.25, conversion_value = conversion_value * 1.1 where tenant_id = $1`, [tenant]);
      await expectExact(c, [tenant]);
      // An update that changes no figure changes no total.
      await c.query(`update ads.metrics_daily set entity_name = 'renamed' where tenant_id = $1`, [tenant]);
      await expectExact(c, [tenant]);

      // Moving a row to another day and platform: it leaves one group and enters another (new) one.
      await c.query(`update ads.metrics_daily set day = '2024-05-09', platform = 'tiktok' where tenant_id = $1 and platform_id = 'c2'`, [tenant]);
      expect(await expectExact(c, [tenant])).toBe(5);
      // ... and the key of a row into a group that exists.
      await c.query(`update ads.metrics_daily set day = '2024-05-02' where tenant_id = $1 and platform_id = 'c3'`, [tenant]);
      await expectExact(c, [tenant]);

      await c.query(`delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'c1' and day = '2024-05-01'`, [tenant]);
      await expectExact(c, [tenant]);
      // Deleting every row of a group removes its rollup row.
      await c.query(`delete from ads.metrics_daily where tenant_id = $1 and level = 'adset'`, [tenant]);
      expect(await expectExact(c, [tenant])).toBe(3);
      expect((await c.query(`select count(*)::int as n from ads_engine.metrics_platform_daily where tenant_id = $1 and level = 'adset'`, [tenant])).rows[0].n).toBe(0);
      await c.query(`delete from ads.metrics_daily where tenant_id = $1`, [tenant]);
      expect(await expectExact(c, [tenant])).toBe(0);
    });
  });

  it('the weekly rollup: ISO weeks across a year end, parents that change, NULL and empty parents, moves within and across weeks', async () => {
    const weekly = (c: pg.ClientBase) =>
      c
        .query(
          `select platform_id, to_char(week, 'YYYY-MM-DD') as week, campaign_id, spend::text as spend, rows
           from ads_engine.metrics_entity_weekly where tenant_id = $1 order by platform_id, week, campaign_id`,
          [tenant],
        )
        .then((r) => r.rows);
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      // 2024-12-30 is a Monday: the ISO week 2025-W01 starts in 2024.
      await load(c, tenant, [
        row('meta', 'adset', 'a1', '2024-12-28', '1.00', '1.00', '1.00', 'c1'),
        row('meta', 'adset', 'a1', '2024-12-29', '2.00', '1.00', '1.00', 'c1'),
        row('meta', 'adset', 'a1', '2024-12-30', '4.00', '1.00', '1.00', 'c1'),
        row('meta', 'adset', 'a1', '2024-12-31', '8.00', '1.00', '1.00', 'c1'),
        row('meta', 'adset', 'a1', '2025-01-01', '16.00', '1.00', '1.00', 'c1'),
        row('meta', 'adset', 'a1', '2025-01-05', '32.00', '1.00', '1.00', 'c1'),
        row('meta', 'adset', 'a1', '2025-01-06', '64.00', '1.00', '1.00', 'c1'),
        // No parent, then an empty one, in the same week: one group ''.
        row('meta', 'adset', 'a2', '2025-01-02', '0.10', '0.00', '0.00', null),
        row('meta', 'adset', 'a2', '2025-01-03', '0.20', '0.00', '0.00', ''),
        // A campaign row names itself.
        row('meta', 'campaign', 'c1', '2025-01-02', '5.55'),
      ]);
      expect(await expectWeeklyExact(c, [tenant])).toBe(5);
      // Worked out by hand: a1's weeks are Mon 2024-12-23 (28, 29: 1 + 2), Mon 2024-12-30 (30, 31, 1, 5: 4 + 8 + 16 + 32), Mon 2025-01-06 (64).
      expect(await weekly(c)).toEqual([
        { platform_id: 'a1', week: '2024-12-23', campaign_id: 'c1', spend: '3.00', rows: 2 },
        { platform_id: 'a1', week: '2024-12-30', campaign_id: 'c1', spend: '60.00', rows: 4 },
        { platform_id: 'a1', week: '2025-01-06', campaign_id: 'c1', spend: '64.00', rows: 1 },
        { platform_id: 'a2', week: '2024-12-30', campaign_id: '', spend: '0.30', rows: 2 },
        { platform_id: 'c1', week: '2024-12-30', campaign_id: 'c1', spend: '5.55', rows: 1 },
      ]);

      // The parent of one day changes: the week splits in two groups (no daily total changes).
      await c.query(`update ads.metrics_daily set campaign_id = 'c2' where tenant_id = $1 and platform_id = 'a1' and day = '2024-12-31'`, [tenant]);
      await expectExact(c, [tenant]);
      expect((await weekly(c)).filter((r) => r.week === '2024-12-30' && r.platform_id === 'a1')).toEqual([
        { platform_id: 'a1', week: '2024-12-30', campaign_id: 'c1', spend: '52.00', rows: 3 },
        { platform_id: 'a1', week: '2024-12-30', campaign_id: 'c2', spend: '8.00', rows: 1 },
      ]);
      // A move within the week changes no weekly total; across weeks (Sunday to Monday, year end) it does.
      await c.query(`update ads.metrics_daily set day = '2025-01-02' where tenant_id = $1 and platform_id = 'a1' and day = '2025-01-01'`, [tenant]);
      await c.query(
        `update ads.metrics_daily set day = case day when '2024-12-29' then date '2025-01-03' else date '2025-01-07' end
         where tenant_id = $1 and platform_id = 'a1' and day in ('2024-12-29', '2025-01-05')`,
        [tenant],
      );
      await expectExact(c, [tenant]);
      expect((await weekly(c)).filter((r) => r.platform_id === 'a1')).toEqual([
        { platform_id: 'a1', week: '2024-12-23', campaign_id: 'c1', spend: '1.00', rows: 1 },
        { platform_id: 'a1', week: '2024-12-30', campaign_id: 'c1', spend: '22.00', rows: 3 },
        { platform_id: 'a1', week: '2024-12-30', campaign_id: 'c2', spend: '8.00', rows: 1 },
        { platform_id: 'a1', week: '2025-01-06', campaign_id: 'c1', spend: '96.00', rows: 2 },
      ]);
      // A restatement naming another parent (the upsert's update trigger), and a new row in the same statement.
      await load(
        c,
        tenant,
        [row('meta', 'adset', 'a1', '2024-12-30', '4.50', '1.00', '1.00', 'c3'), row('meta', 'adset', 'a1', '2025-01-04', '0.01', '1.00', '1.00', 'c3')],
        UPSERT,
      );
      await expectExact(c, [tenant]);
      // Every parent removed, one row's platform changed, then deletes within a group and of whole groups.
      await c.query(`update ads.metrics_daily set campaign_id = null where tenant_id = $1 and platform_id = 'a1'`, [tenant]);
      await c.query(`update ads.metrics_daily set platform = 'google' where tenant_id = $1 and platform_id = 'a1' and day = '2024-12-28'`, [tenant]);
      await expectExact(c, [tenant]);
      await c.query(`delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'a1' and day = '2025-01-06'`, [tenant]);
      await expectExact(c, [tenant]);
      await c.query(`delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'a2'`, [tenant]);
      await expectExact(c, [tenant]);
      expect((await weekly(c)).filter((r) => r.platform_id === 'a2')).toEqual([]);
      await c.query(`delete from ads.metrics_daily where tenant_id = $1`, [tenant]);
      expect(await expectWeeklyExact(c, [tenant])).toBe(0);
    });
  });

  it('after a bulk load of a few thousand random rows, random restatements, moves and deletes', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const rows = randomRows(20_240_501, 4000);
      // One statement for most of them, then the rest in small loads.
      expect(await load(c, tenant, rows.slice(0, 3000))).toBe(3000);
      for (let i = 3000; i < 4000; i += 250) await load(c, tenant, rows.slice(i, i + 250));
      const groups = await expectExact(c, [tenant]);
      expect(groups).toBeGreaterThan(200);

      // The same keys loaded again with new figures: every row restated.
      const rnd = mulberry32(7);
      const restated = rows.map((r) => ({ ...r, spend: (rnd() * 400).toFixed(2), conversions: (rnd() * 9).toFixed(2), clicks: Math.floor(rnd() * 300) }));
      expect(await load(c, tenant, restated, UPSERT)).toBe(4000);
      await expectExact(c, [tenant]);

      await c.query(`update ads.metrics_daily set day = day + 40 where tenant_id = $1 and platform_id in ('e1', 'e2', 'e3') and level = 'adset'`, [tenant]);
      await c.query(`update ads.metrics_daily set platform = 'snapchat' where tenant_id = $1 and platform_id like 'e1%' and platform = 'meta'`, [tenant]);
      await expectExact(c, [tenant]);
      // Ad sets moved to other campaigns (on some days only), parents removed, rows moved by a few days (within or across weeks).
      await c.query(
        `update ads.metrics_daily set campaign_id = 'c' || (hashtext(platform_id || day::text) & 7)
         where tenant_id = $1 and level = 'adset' and (hashtext(day::text || platform_id) % 4) = 0`,
        [tenant],
      );
      await c.query(`update ads.metrics_daily set campaign_id = null where tenant_id = $1 and level = 'adset' and platform_id like 'e2%'`, [tenant]);
      await c.query(`update ads.metrics_daily set day = day + 100 + (hashtext(platform_id) & 3) where tenant_id = $1 and platform = 'tiktok'`, [tenant]);
      expect(await expectWeeklyExact(c, [tenant])).toBeGreaterThan(1000);
      await expectExact(c, [tenant]);
      await c.query(`delete from ads.metrics_daily where tenant_id = $1 and (hashtext(platform_id || day::text) % 3) = 0`, [tenant]);
      await expectExact(c, [tenant]);
      await c.query(`delete from ads.metrics_daily where tenant_id = $1 and platform = 'google'`, [tenant]);
      await expectExact(c, [tenant]);
    });
  });

  it('a random mix of writes, round after round: upserts, restatements, key and parent moves, deletes, and all of them in one statement', async () => {
    // Each round draws one kind of write over a random share of the rows and compares both rollups with their GROUP BY.
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      const rnd = mulberry32(20_250_612);
      // One row in eight with no figure at all (a day without delivery): it still counts in its groups.
      const blank = (rows: MetricsRow[]) =>
        rows.map((r, i) => (i % 8 === 3 ? { ...r, spend: '0.00', impressions: 0, clicks: 0, conversions: '0.00', value: '0.00' } : r));
      await load(c, tenant, blank(randomRows(31, 1500, 120, 40)));
      await expectExact(c, [tenant]);
      let shift = 0;
      const kinds = new Map<string, number>();
      for (let round = 0; round < 30; round++) {
        const salt = Math.floor(rnd() * 1e6);
        const one = 2 + Math.floor(rnd() * 6); // a row in `one` is picked
        const h = `((hashtext(platform_id || day::text || '${salt}') & 1048575) % ${one})`;
        // Key moves go past every day used so far, to new ids or to the 'ad' level, so no moved key meets a stored one.
        shift += 400;
        const kind = (['upsert', 'restate', 'move', 'delete', 'all at once'] as const)[Math.floor(rnd() * 5)]!;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (kind === 'upsert') {
          // Stored keys restated (some with another parent) and new keys, in one statement.
          await load(c, tenant, blank(randomRows(salt, 150 + Math.floor(rnd() * 300), 140, 45)), UPSERT);
        } else if (kind === 'restate') {
          await c.query(
            `update ads.metrics_daily set spend = spend + 0.01 * (${h} + 1), conversions = conversions * 2, impressions = impressions + 7, entity_name = 'r${round}'
             where tenant_id = $1 and ${h} = 0`,
            [tenant],
          );
        } else if (kind === 'move') {
          // One UPDATE: rows moved in time, to another entity, to another level, to another parent; figures changed on some; names only on the rest.
          await c.query(
            `update ads.metrics_daily set
               day = case when ${h} = 0 then day + ${shift} else day end,
               platform_id = case ${h} when 1 then platform_id || '.${round}a' when 2 then platform_id || '.${round}b' else platform_id end,
               level = case when ${h} = 2 and level = 'adset' then 'ad' else level end,
               campaign_id = case when ${h} = 3 and level <> 'campaign' then 'c' || (hashtext(platform_id) & 3) else campaign_id end,
               spend = case when ${h} in (0, 4) then spend + 1.01 else spend end,
               entity_name = 'm${round}'
             where tenant_id = $1`,
            [tenant],
          );
        } else if (kind === 'delete') {
          await c.query(`delete from ads.metrics_daily where tenant_id = $1 and ${h} = 0`, [tenant]);
        } else {
          // A delete, a moving update and an insert in one SQL statement: each part fires its own trigger, at the end of the statement.
          const fresh = randomRows(salt, 120, 60, 30).map((r) => ({ ...r, platformId: `${r.platformId}.n${round}` }));
          await c.query(
            `with gone as (delete from ads.metrics_daily where tenant_id = $1 and ${h} = 0 returning 1),
                  moved as (update ads.metrics_daily set day = day + ${shift}, clicks = clicks + 1 where tenant_id = $1 and ${h} = 1 returning 1)
             ${INSERT}`,
            [
              tenant,
              fresh.map((x) => x.platform),
              fresh.map((x) => x.level),
              fresh.map((x) => x.platformId),
              fresh.map((x) => x.day),
              fresh.map((x) => x.spend),
              fresh.map((x) => x.impressions),
              fresh.map((x) => x.clicks),
              fresh.map((x) => x.conversions),
              fresh.map((x) => x.value),
              fresh.map((x) => x.campaignId ?? null),
            ],
          );
        }
        await expectExact(c, [tenant]);
      }
      // Every kind was drawn, and the rollups still hold many groups.
      expect([...kinds.keys()].sort()).toEqual(['all at once', 'delete', 'move', 'restate', 'upsert']);
      expect(await expectWeeklyExact(c, [tenant])).toBeGreaterThan(300);
      // Emptied in one statement: no rollup row is left, not even one with a count of zero.
      await c.query('delete from ads.metrics_daily where tenant_id = $1', [tenant]);
      expect(await expectExact(c, [tenant])).toBe(0);
      for (const table of ['ads_engine.metrics_platform_daily', 'ads_engine.metrics_entity_weekly']) {
        expect((await c.query(`select count(*)::int as n from ${table}`)).rows[0].n).toBe(0);
      }
    });
  });

  it("a superuser's random statements over three tenants, rows moved between tenants among them, keep each tenant exact", async () => {
    const third = await createTenant(owner, 'Rollup tenant, third');
    const tenants = [tenant, other, third];
    await rollback(owner, async (c) => {
      await setTenant(c, null);
      const rnd = mulberry32(77);
      for (const [i, t] of tenants.entries()) {
        await setTenant(c, t);
        await load(c, t, randomRows(500 + i, 400, 50, 20));
      }
      await setTenant(c, null);
      await expectExact(c, tenants);
      let shift = 0;
      for (let round = 0; round < 12; round++) {
        const salt = Math.floor(rnd() * 1e6);
        const h = `((hashtext(platform_id || day::text || tenant_id::text || '${salt}') & 1048575) % 5)`;
        shift += 400;
        // The statement runs with no tenant set, or one of them (not always one whose rows it writes).
        const setting = round % 4 === 0 ? null : tenants[round % 3]!;
        await setTenant(c, setting);
        const to = tenants[Math.floor(rnd() * 3)]!;
        await c.query(
          `update ads.metrics_daily set
             tenant_id = case when ${h} = 0 then $2::uuid else tenant_id end,
             platform_id = case when ${h} = 0 then platform_id || '.' || left(tenant_id::text, 8) || '.${round}' else platform_id end,
             day = case when ${h} in (0, 1) then day + ${shift} else day end,
             spend = case when ${h} = 2 then spend + 0.5 else spend end
           where tenant_id = any($1::uuid[])`,
          [tenants, to],
        );
        await c.query(`delete from ads.metrics_daily where tenant_id = any($1::uuid[]) and ${h} = 3 and day < date '2024-03-15'`, [tenants]);
        expect((await c.query(`select current_setting('saas.tenant_id', true) as t`)).rows[0].t).toBe(setting ?? '');
        await setTenant(c, null);
        await expectExact(c, tenants);
      }
    });
  });

  it("a superuser's statement over two tenants, with no tenant set or another one, keeps each exact and leaves the setting as it was", async () => {
    await rollback(owner, async (c) => {
      await setTenant(c, null);
      await c.query(
        `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, conversions)
         select t, p, 'campaign', 'c' || i, date '2024-06-01' + (i % 3), i * 1.25, i * 0.5
         from unnest($1::uuid[]) t, unnest(array['meta', 'google']) p, generate_series(1, 12) i`,
        [[tenant, other]],
      );
      expect(await expectExact(c, [tenant, other])).toBe(12);
      expect((await c.query(`select current_setting('saas.tenant_id', true) as t`)).rows[0].t).toBe('');

      await setTenant(c, tenant);
      await c.query(`update ads.metrics_daily set spend = spend + 1 where tenant_id = $1 and platform = 'meta'`, [other]);
      await c.query(`delete from ads.metrics_daily where tenant_id = any($1::uuid[]) and platform_id = 'c1'`, [[tenant, other]]);
      expect((await c.query(`select current_setting('saas.tenant_id', true) as t`)).rows[0].t).toBe(tenant);
      await setTenant(c, null);
      await expectExact(c, [tenant, other]);

      // TRUNCATE (the owner's; the app has no TRUNCATE) empties the rollup too, also when it cascades from the tenants.
      await c.query('savepoint before_truncate');
      await c.query('truncate ads.metrics_daily');
      expect((await c.query('select count(*)::int as n from ads_engine.metrics_platform_daily')).rows[0].n).toBe(0);
      await c.query('rollback to savepoint before_truncate');
      await expectExact(c, [tenant, other]);
      await c.query('truncate saas.tenants cascade');
      expect((await c.query('select count(*)::int as n from ads_engine.metrics_platform_daily')).rows[0].n).toBe(0);
    });
  });

  it('two transactions loading the same platform and day at once add up (the second waits for the first)', async () => {
    const t = await createTenant(owner, 'Rollup concurrency');
    const [c1, c2] = [await app.connect(), await app.connect()];
    try {
      // A write: rows to load, or a statement of the tenant's ($1).
      const write = (c: pg.ClientBase, w: MetricsRow[] | string, text: string) => (typeof w === 'string' ? c.query(w, [t]) : load(c, t, w, text));
      const round = async (first: MetricsRow[] | string, second: MetricsRow[] | string, text = INSERT) => {
        for (const c of [c1, c2]) {
          await c.query('begin');
          await setTenant(c, t);
        }
        await write(c1, first, text);
        const pid2 = (await c2.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        const pending = write(c2, second, text);
        // Wait until the second is blocked on the first's rollup row, then commit the first.
        for (let i = 0; ; i++) {
          const w = await owner.query(`select wait_event_type from pg_stat_activity where pid = $1`, [pid2]);
          if (w.rows[0]?.wait_event_type === 'Lock') break;
          if (i > 200) throw new Error('the second load never waited for the first');
          await new Promise((r) => setTimeout(r, 10));
        }
        await c1.query('commit');
        await pending;
        await c2.query('commit');
      };
      // A new group, inserted by both.
      await round([row('meta', 'campaign', 'x1', '2024-07-01', '10.10')], [row('meta', 'campaign', 'x2', '2024-07-01', '20.20')]);
      // An existing group, restated by both (different rows).
      await round(
        [row('meta', 'campaign', 'x1', '2024-07-01', '11.11')],
        [row('meta', 'campaign', 'x2', '2024-07-01', '22.22'), row('meta', 'campaign', 'x3', '2024-07-01', '0.01')],
        UPSERT,
      );
      const c = await owner.connect();
      try {
        expect(await expectExact(c, [t])).toBe(1);
        expect((await c.query(`select spend::text, rows from ads_engine.metrics_platform_daily where tenant_id = $1`, [t])).rows).toEqual([
          { spend: '33.34', rows: 3 },
        ]);
        const daily = () =>
          c.query(`select to_char(day, 'YYYY-MM-DD') as day, spend::text, rows from ads_engine.metrics_platform_daily where tenant_id = $1 order by day`, [t]);
        // Rows taken out of the same group by both: a delete, and a move to another day.
        await round(
          `delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'x1'`,
          `update ads.metrics_daily set day = '2024-07-08', spend = spend + 1 where tenant_id = $1 and platform_id = 'x2'`,
        );
        await expectExact(c, [t]);
        expect((await daily()).rows).toEqual([
          { day: '2024-07-01', spend: '0.01', rows: 1 },
          { day: '2024-07-08', spend: '23.22', rows: 1 },
        ]);
        // The group's last row deleted by one while the other adds a row to it: the second inserts the group again once the first has removed it.
        await round(`delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'x3'`, [row('meta', 'campaign', 'x4', '2024-07-01', '4.44')]);
        await expectExact(c, [t]);
        expect((await daily()).rows).toEqual([
          { day: '2024-07-01', spend: '4.44', rows: 1 },
          { day: '2024-07-08', spend: '23.22', rows: 1 },
        ]);
        // Deleting the tenant cascades to its metrics and its totals, whichever goes first.
        await c.query('delete from saas.tenants where id = $1', [t]);
        expect((await c.query(`select count(*)::int as n from ads_engine.metrics_platform_daily where tenant_id = $1`, [t])).rows[0].n).toBe(0);
      } finally {
        c.release();
      }
    } finally {
      for (const c of [c1, c2]) {
        await c.query('rollback').catch(() => undefined);
        c.release();
      }
    }
  });
});

const ROLLUPS = ['ads_engine.metrics_platform_daily', 'ads_engine.metrics_entity_weekly'] as const;

describe('who reads and writes the rollups', () => {
  it.each(ROLLUPS)('%s: as the app role a tenant sees only its own rows (none without a tenant), the owner sees both tenants', async (table) => {
    await rollback(owner, async (c) => {
      for (const [t, spend] of [[tenant, '10.00'], [other, '20.00']] as const) {
        await setTenant(c, t);
        await load(c, t, [row('meta', 'campaign', 'c1', '2024-08-01', spend), row('google', 'adset', 'a1', '2024-08-02', spend, '1.50', '120.25', 'c1')]);
      }
      await setTenant(c, null);
      const both = await c.query(`select tenant_id::text as t, count(*)::int as n from ${table} where tenant_id = any($1::uuid[]) group by 1 order by 1`, [
        [tenant, other],
      ]);
      expect(both.rows).toEqual([tenant, other].sort().map((t) => ({ t, n: 2 })));

      await c.query('set local role aegis_app');
      for (const [t, spend] of [[tenant, '10.00'], [other, '20.00']] as const) {
        await setTenant(c, t);
        const seen = await c.query(`select tenant_id::text as t, spend::text as spend from ${table}`);
        expect(seen.rows).toEqual([
          { t, spend },
          { t, spend },
        ]);
        // Naming the other tenant gives nothing either.
        const named = await c.query(`select count(*)::int as n from ${table} where tenant_id <> $1`, [t]);
        expect(named.rows[0].n).toBe(0);
      }
      await setTenant(c, null);
      expect((await c.query(`select count(*)::int as n from ${table}`)).rows[0].n).toBe(0);
    });
  });

  it('the app role cannot insert, update, delete or truncate rollup rows, nor re-aggregate them', async () => {
    await rollback(app, async (c) => {
      await setTenant(c, tenant);
      await load(c, tenant, [row('meta', 'campaign', 'c1', '2024-08-01', '10.00')]);
      const denied = /permission denied for table metrics_platform_daily/;
      expect(
        await errorOf(
          c,
          `insert into ads_engine.metrics_platform_daily (tenant_id, level, platform, day, spend, impressions, clicks, conversions, conversion_value, rows)
           values ($1, 'campaign', 'google', '2024-08-01', 1, 1, 1, 1, 1, 1)`,
          [tenant],
        ),
      ).toMatch(denied);
      expect(await errorOf(c, `update ads_engine.metrics_platform_daily set spend = 0 where tenant_id = $1`, [tenant])).toMatch(denied);
      expect(await errorOf(c, `delete from ads_engine.metrics_platform_daily where tenant_id = $1`, [tenant])).toMatch(denied);
      expect(await errorOf(c, 'truncate ads_engine.metrics_platform_daily')).toMatch(denied);
      const deniedWeekly = /permission denied for table metrics_entity_weekly/;
      expect(
        await errorOf(
          c,
          `insert into ads_engine.metrics_entity_weekly (tenant_id, level, platform, week, platform_id, campaign_id, spend, impressions, clicks, conversions, conversion_value, rows)
           values ($1, 'campaign', 'google', '2024-07-29', 'c9', 'c9', 1, 1, 1, 1, 1, 1)`,
          [tenant],
        ),
      ).toMatch(deniedWeekly);
      expect(await errorOf(c, `update ads_engine.metrics_entity_weekly set spend = 0 where tenant_id = $1`, [tenant])).toMatch(deniedWeekly);
      expect(await errorOf(c, `delete from ads_engine.metrics_entity_weekly where tenant_id = $1`, [tenant])).toMatch(deniedWeekly);
      expect(await errorOf(c, 'truncate ads_engine.metrics_entity_weekly')).toMatch(deniedWeekly);
      expect(await errorOf(c, 'select ads_engine.rebuild_metrics_platform_daily($1)', [tenant])).toMatch(/is for the owner/);
      // The trigger function cannot be called directly either.
      expect(await errorOf(c, 'select ads_engine.tg_metrics_platform_daily()')).toMatch(/trigger functions can only be called as triggers/);
      // Its own tenant's totals are still right, and still its own.
      expect(await expectExact(c, [tenant])).toBe(1);
    });
  });

  it('the trigger function is the owner\'s SECURITY DEFINER with a fixed search_path; both tables have RLS forced', async () => {
    const r = await owner.query(`
      select c.oid::regclass::text as table, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
             has_table_privilege('aegis_app', c.oid, 'SELECT') as app_select,
             has_table_privilege('aegis_app', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') as app_write,
             has_table_privilege('public', c.oid, 'SELECT') as public_select,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
      from pg_class c where c.oid = any($1::regclass[]) order by 1`, [[...ROLLUPS]]);
    expect(r.rows).toEqual(
      [...ROLLUPS].sort().map((table) => ({ table, rls: true, forced: true, app_select: true, app_write: false, public_select: false, policies: 1 })),
    );
  });

  it('the trigger function runs for ads.metrics_daily only', async () => {
    await rollback(owner, async (c) => {
      await setTenant(c, tenant);
      await c.query('create temp table lookalike (like ads.metrics_daily including defaults)');
      await c.query(`create trigger lookalike_insert after insert on lookalike referencing new table as new_rows
                     for each statement execute function ads_engine.tg_metrics_platform_daily()`);
      expect(
        await errorOf(c, `insert into lookalike (tenant_id, platform, level, platform_id, day) values ($1, 'meta', 'campaign', 'x', '2024-01-01')`, [other]),
      ).toMatch(/from ads.metrics_daily only/);
    });
  });

  it('the trigger function is the owner\'s SECURITY DEFINER with a fixed search_path, on the four triggers', async () => {
    const r = await owner.query(`
      select p.prosecdef as definer, p.proconfig as config, pg_get_userbyid(p.proowner) as owner, p.provolatile as volatility,
             c.relrowsecurity as rls, c.relforcerowsecurity as forced,
             has_table_privilege('aegis_app', c.oid, 'SELECT') as app_select,
             has_table_privilege('aegis_app', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') as app_write,
             (select array_agg(tgname::text order by tgname) from pg_trigger where tgrelid = 'ads.metrics_daily'::regclass and tgfoid = p.oid) as triggers
      from pg_proc p, pg_class c
      where p.oid = 'ads_engine.tg_metrics_platform_daily()'::regprocedure and c.oid = 'ads_engine.metrics_platform_daily'::regclass`);
    expect(r.rows).toEqual([
      {
        definer: true,
        config: ['search_path=pg_catalog, pg_temp'],
        owner: 'aegis_owner',
        volatility: 'v',
        rls: true,
        forced: true,
        app_select: true,
        app_write: false,
        triggers: ['metrics_platform_daily_delete', 'metrics_platform_daily_insert', 'metrics_platform_daily_truncate', 'metrics_platform_daily_update'],
      },
    ]);
  });
});

describe('the deployment and the rebuild', () => {
  it('re-aggregates tenants whose rollups missed writes, leaves a correct one alone, and a rebuild of a correct tenant changes nothing', async () => {
    const url = await scratchDatabase('rollups');
    const core = readSqlFile(path.join(dbDir, 'deploy.sql'));
    const media = readSqlFile(path.join(dbDir, 'media_buying_deployment.sql'));
    await runSql(url, core);
    await runSql(url, media);
    // a: kept by the triggers; b: rows loaded past them; w: its weekly rollup lost (as on the first deployment of it over older data).
    const [a, b, w] = ['0a0a0a0a-0000-4000-8000-00000000000a', '0b0b0b0b-0000-4000-8000-00000000000b', '0c0c0c0c-0000-4000-8000-00000000000c'];
    const rows = randomRows(99, 600, 40, 20);
    const insert = (t: string) =>
      `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value, campaign_id)
       select '${t}', r.* from json_to_recordset('${JSON.stringify(rows)}') as
         r(platform text, level text, "platformId" text, day date, spend numeric, impressions bigint, clicks bigint, conversions numeric, value numeric,
           "campaignId" text)`;
    await runSql(
      url,
      `begin;
       insert into saas.tenants (id, name) values ('${a}', 'kept'), ('${b}', 'missed'), ('${w}', 'weekly lost');
       ${insert(a)};
       ${insert(w)};
       delete from ads_engine.metrics_entity_weekly where tenant_id = '${w}';
       -- tenant b's rows bypass the triggers, as a partial restore would
       set local session_replication_role = replica;
       ${insert(b)};
       commit;`,
    );
    const all = [a, b, w];
    const check = async () => ({
      truth: await queryRows(url, TRUTH, [all]),
      rollup: await queryRows(url, ROLLUP, [all]),
      weeklyTruth: await queryRows(url, WEEKLY_TRUTH, [all]),
      weekly: await queryRows(url, WEEKLY, [all]),
    });
    const before = await check();
    expect(before.rollup).toEqual(before.truth.filter((r) => r.tenant_id !== b));
    expect(before.weekly).toEqual(before.weeklyTruth.filter((r) => r.tenant_id === a));
    expect(before.weeklyTruth.filter((r) => r.tenant_id === w).length).toBeGreaterThan(100);
    // A write to the stale tenants' groups fails loudly rather than drift: both rollups stale, or the weekly one only.
    await expect(runSql(url, `delete from ads.metrics_daily where tenant_id = '${b}'`)).rejects.toThrow(/metrics_platform_daily is out of date for tenant/);
    await expect(runSql(url, `delete from ads.metrics_daily where tenant_id = '${w}'`)).rejects.toThrow(/metrics_entity_weekly is out of date for tenant/);
    const stale = await runSql(url, `update ads.metrics_daily set spend = spend + 1 where tenant_id = '${w}'`).catch((e: { code?: string }) => e.code);
    expect(stale).toBe('55000');

    const ctidsOfA = `select 'd' || ctid::text as r from ads_engine.metrics_platform_daily where tenant_id = '${a}'
                      union all select 'w' || ctid::text from ads_engine.metrics_entity_weekly where tenant_id = '${a}' order by 1`;
    const untouched = await queryRows(url, ctidsOfA);
    const ctidsOfWDaily = `select ctid::text from ads_engine.metrics_platform_daily where tenant_id = '${w}' order by ctid`;
    const wDaily = await queryRows(url, ctidsOfWDaily);
    await runSql(url, media);
    const after = await check();
    expect(after.rollup).toEqual(after.truth);
    expect(after.weekly).toEqual(after.weeklyTruth);
    expect(after.truth.length).toBeGreaterThan(before.rollup.length);
    expect(await queryRows(url, ctidsOfA)).toEqual(untouched);
    // w's daily rollup was right: its rebuild left it as it was.
    expect(await queryRows(url, ctidsOfWDaily)).toEqual(wDaily);

    const rebuilt = await queryRows(
      url,
      `select ads_engine.rebuild_metrics_platform_daily('${b}') + ads_engine.rebuild_metrics_platform_daily('${w}') as n, current_setting('saas.tenant_id', true) as t`,
    );
    expect(rebuilt).toEqual([{ n: 0, t: '' }]);
    // A rebuild repairs wrong figures too (a count check alone would not see these).
    await runSql(
      url,
      `begin; set local session_replication_role = replica;
       update ads.metrics_daily set spend = spend + 0.01 where tenant_id = '${w}' and level = 'adset' and day = '2024-03-04';
       commit;`,
    );
    const repaired = await queryRows<{ n: number }>(url, `select ads_engine.rebuild_metrics_platform_daily('${w}') as n`);
    expect(repaired[0]!.n).toBeGreaterThan(1);
    const fixed = await check();
    expect(fixed.rollup).toEqual(fixed.truth);
    expect(fixed.weekly).toEqual(fixed.weeklyTruth);
    await runSql(url, `delete from ads.metrics_daily where tenant_id = any(array['${b}', '${w}']::uuid[])`);
    const end = await check();
    expect(end.rollup).toEqual(end.truth);
    expect(end.weekly).toEqual(end.weeklyTruth);
  });

  it('a write a rollup cannot take exactly fails with 55000 and leaves it as it was: more rows taken than a group counts, a group emptied with totals left', async () => {
    await rollback(owner, async (c) => {
      await setTenant(c, tenant);
      await load(c, tenant, [
        row('meta', 'campaign', 'c1', '2024-09-02', '10.00'),
        row('meta', 'campaign', 'c2', '2024-09-02', '20.00'),
        row('meta', 'adset', 'a1', '2024-09-03', '5.00', '1.00', '1.00', 'c1'),
      ]);
      await expectExact(c, [tenant]);
      // Writes the rollups missed (as the owner): the daily group of 2024-09-02 counts one row where there are two; the
      // weekly group of a1 counts none.
      await c.query(`update ads_engine.metrics_platform_daily set rows = 1 where tenant_id = $1 and day = '2024-09-02'`, [tenant]);
      await c.query(`update ads_engine.metrics_entity_weekly set rows = 0 where tenant_id = $1 and platform_id = 'a1'`, [tenant]);
      const state = async () => [(await c.query(ROLLUP, [[tenant]])).rows, (await c.query(WEEKLY, [[tenant]])).rows];
      const before = await state();
      const failure = async (text: string) => {
        await c.query('savepoint w');
        try {
          await c.query(text, [tenant]);
          return null;
        } catch (e) {
          const err = e as { code?: string; message: string; hint?: string };
          return { code: err.code, message: err.message, hint: err.hint };
        } finally {
          await c.query('rollback to savepoint w');
        }
      };
      const outOfDate = (table: string) => ({
        code: '55000',
        message: expect.stringContaining(`ads_engine.${table} is out of date for tenant ${tenant}`),
        hint: expect.stringContaining('rebuild_metrics_platform_daily'),
      });
      // Two rows taken from a group that counts one.
      expect(await failure(`delete from ads.metrics_daily where tenant_id = $1 and day = '2024-09-02'`)).toEqual(outOfDate('metrics_platform_daily'));
      // One taken: the group counts none, but 20.00 of spend is left.
      expect(await failure(`delete from ads.metrics_daily where tenant_id = $1 and platform_id = 'c1'`)).toEqual(outOfDate('metrics_platform_daily'));
      // Figures restated in a weekly group that counts no row.
      expect(await failure(`update ads.metrics_daily set spend = 6 where tenant_id = $1 and platform_id = 'a1'`)).toEqual(outOfDate('metrics_entity_weekly'));
      expect(await state()).toEqual(before);
      // Writes to the groups that are right still go through.
      expect(await failure(`update ads.metrics_daily set spend = 7 where tenant_id = $1 and platform_id = 'c2'`)).toBeNull();
    });
  });
});

describe('cost of the triggers', () => {
  it('a bulk insert of 100,000 rows is not more than about twice as slow with them', async () => {
    const n = 100_000;
    const bulk = `
      insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, impressions, clicks, conversions, conversion_value)
      select $1, (array['meta', 'google', 'tiktok', 'linkedin'])[1 + i % 4], (array['campaign', 'adset'])[1 + (i / 4) % 2], 'e' || (i % 800),
             date '2023-01-01' + (i / 800), (i % 9973) / 100.0, i % 50000, i % 700, (i % 211) / 10.0, (i % 7919) / 10.0
      from generate_series(0, $2::int - 1) i`;
    const timeIt = (withTriggers: boolean) =>
      rollback(owner, async (c) => {
        await setTenant(c, tenant);
        if (!withTriggers) await c.query('alter table ads.metrics_daily disable trigger metrics_platform_daily_insert');
        const t0 = performance.now();
        await c.query(bulk, [tenant, n]);
        const ms = performance.now() - t0;
        if (withTriggers) {
          expect(await expectExact(c, [tenant])).toBe(8 * Math.ceil(n / 800));
          // Small writes right after, in the same transaction: the rollups' statistics still say they are empty.
          // Each group is found by its key (a join scanned all 14,400 weekly rows of the tenant per group: 20 ms a write).
          const small: number[] = [];
          for (let k = 0; k < 30; k++) {
            const t1 = performance.now();
            await c.query(
              `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, spend, campaign_id)
               select $1, 'meta', 'adset', 'e' || (4 + 8 * g), date '2023-01-01' + $2::int, 1.25, 'c' || g from generate_series(0, 4) g
               on conflict (tenant_id, platform, level, platform_id, day) do update set spend = excluded.spend + 1, campaign_id = excluded.campaign_id`,
              [tenant, 200 + (k % 3)],
            );
            small.push(performance.now() - t1);
          }
          // Printed, not asserted: an absolute time on a shared machine is no test (the import benchmark carries the speed).
          const median = small.sort((a, b) => a - b)[15]!;
          console.log(`[rollups] then 30 writes of 5 rows: median ${median.toFixed(2)} ms`);
          await expectExact(c, [tenant]);
        }
        return ms;
      });
    const without = Math.min(await timeIt(false), await timeIt(false));
    const withTriggers = Math.min(await timeIt(true), await timeIt(true));
    console.log(`[rollups] insert of ${n} rows: ${without.toFixed(0)} ms without the rollup triggers, ${withTriggers.toFixed(0)} ms with both rollups (x${(withTriggers / without).toFixed(2)})`);
    expect(withTriggers / without).toBeLessThan(2);
  });
});
