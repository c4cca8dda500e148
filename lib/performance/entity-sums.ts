// Sums per entity over ranges of days, read mostly from the weekly rollup the
// triggers keep exact (ads_engine.metrics_entity_weekly, db/media_buying/
// 055_rollups.sql): a range's whole ISO weeks (Monday to Sunday) come from it,
// one row per entity and week instead of seven, and only the range's edge days
// (those in weeks it covers in part) from ads.metrics_daily. Both are exact
// numeric sums of the same rows, so the result equals summing ads.metrics_daily
// over each range, figure for figure.
import 'server-only';
import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '@/lib/db';
import { addDays, isValidDay } from './filters';
import { PLATFORMS, type Level, type Totals } from './metrics';

/** Days from `from` to `to`, both included ('YYYY-MM-DD'). */
export interface DayRange {
  from: string;
  to: string;
}

/** One entity's sums, one Totals per range asked for, in the same order (zeros for a range without its rows). */
export interface EntitySums {
  platform: string;
  /** The entity's id (ads.metrics_daily.platform_id). */
  platformId: string;
  ranges: Totals[];
}

/** ISO day of the week, Monday 1 to Sunday 7, of a valid 'YYYY-MM-DD'. */
function isoDow(day: string): number {
  return ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

/**
 * A range split into its whole ISO weeks (the Mondays of the first and the last, or null when it holds no whole
 * week) and the days outside them (up to two runs: before the first Monday, after the last Sunday; the whole range
 * when it has no whole week). Together they cover each day of the range exactly once.
 */
export function splitRange(range: DayRange): { weeks: DayRange | null; days: DayRange[] } {
  const { from, to } = range;
  if (!isValidDay(from) || !isValidDay(to) || from > to) throw new Error(`not a range of days: ${from}..${to}`);
  const firstMonday = isoDow(from) === 1 ? from : addDays(from, 8 - isoDow(from));
  const lastSunday = isoDow(to) === 7 ? to : addDays(to, -isoDow(to));
  const lastMonday = addDays(lastSunday, -6);
  if (firstMonday > lastMonday) return { weeks: null, days: [{ from, to }] };
  const days: DayRange[] = [];
  if (from < firstMonday) days.push({ from, to: addDays(firstMonday, -1) });
  if (lastSunday < to) days.push({ from: addDays(lastSunday, 1), to });
  return { weeks: { from: firstMonday, to: lastMonday }, days };
}

const FIGURES = ['spend', 'impressions', 'clicks', 'conversions', 'value'] as const;

// One flag column per range, named from this closed list (written out: the statement builds no identifier from a
// string). Twice what the page asks for, a period and its comparison.
const SLOTS = [sql`r0`, sql`r1`, sql`r2`, sql`r3`] as const;
export const MAX_RANGES = SLOTS.length;

/** Per entity, each figure's sums over the ranges, in the order asked for. */
type SumsRow = { platform: string; platform_id: string } & Record<(typeof FIGURES)[number], number[]>;

const NONE = sql`false`;

/** `column between from and to` for each range, or'ed; false for none. */
function within(column: RawBuilder<unknown>, ranges: DayRange[]): RawBuilder<unknown> {
  if (ranges.length === 0) return NONE;
  return sql`(${sql.join(
    ranges.map((r) => sql`${column} between ${r.from}::date and ${r.to}::date`),
    sql` or `,
  )})`;
}

/**
 * Per entity (key `${platform}|${platform_id}`) of one tenant and level, its five sums over each range: exactly
 * sum(spend), sum(impressions), ... of its ads.metrics_daily rows in the range (as float8, the nearest double to the
 * exact numeric sum, as lib/performance/queries.ts reads them).
 *
 * One statement: the ranges' whole weeks from ads_engine.metrics_entity_weekly (week = any(the Mondays)) and their
 * edge days from ads.metrics_daily (day = any(the days); without a campaign filter the covering index
 * idx_metrics_optimization answers it alone), unioned; each row is flagged with the ranges it belongs to (by the range's own weeks for a
 * weekly row, by its own edge days for a daily one, so overlapping ranges are each exact), then grouped per entity
 * with one filtered sum per range and figure, like entityRows' single read.
 *
 * - `platforms`: empty for all of them (every known platform is named so the indexes read ranges).
 * - `campaignId`: at the adset level only its ad sets (campaign_id = it), at the campaign level only that campaign
 *   (platform_id = it), as queries.ts scopes reads. An ad set's parent is part of the weekly key, so the filter is
 *   exact on the rollup too; only '' (which the rollup also keeps for a NULL parent) is read from the days alone.
 * - An entity is in the map when it has a row in some range, even with zero figures (the caller decides what counts).
 * - No parent campaign per entity: the latest row's, with the names, is entityRows' one-probe lateral; from the
 *   rollup it would cost a sort of all the rows (an ordered aggregate) and heap reads for the days.
 * - Runs in the tenant's transaction (RLS applies; the tenant is also bound in both WHEREs). JIT is the caller's
 *   business (performancePage turns it off for the transaction).
 */
export async function entitySums(
  trx: Tx,
  tenantId: string,
  level: Level,
  platforms: string[],
  campaignId: string | undefined,
  ranges: DayRange[],
): Promise<Map<string, EntitySums>> {
  const out = new Map<string, EntitySums>();
  if (ranges.length === 0) return out;
  if (ranges.length > MAX_RANGES) throw new Error(`entitySums: at most ${MAX_RANGES} ranges at once (got ${ranges.length})`);
  // Per range, its whole weeks (from, to: Mondays) and its edge days; the Mondays and days of them all.
  const daysOnly = level === 'adset' && campaignId === '';
  const pieces = ranges.map((range) => {
    const split = splitRange(range);
    return daysOnly || !split.weeks ? { weeks: [] as DayRange[], days: [range] } : { weeks: [split.weeks], days: split.days };
  });
  const mondays = new Set<string>();
  const days = new Set<string>();
  for (const p of pieces) {
    for (const w of p.weeks) for (let d = w.from; d <= w.to; d = addDays(d, 7)) mondays.add(d);
    for (const r of p.days) for (let d = r.from; d <= r.to; d = addDays(d, 1)) days.add(d);
  }

  const inPlatforms = platforms.length > 0 ? platforms : [...PLATFORMS];
  const campaignFilter = (campaignColumn: RawBuilder<unknown>, idColumn: RawBuilder<unknown>): RawBuilder<unknown> => {
    if (campaignId === undefined) return sql``;
    return level === 'adset' ? sql`and ${campaignColumn} = ${campaignId}` : sql`and ${idColumn} = ${campaignId}`;
  };
  const slots = SLOTS.slice(0, ranges.length);
  // The figure's sum over each range, as an array in the ranges' order.
  const perRange = (column: RawBuilder<unknown>) =>
    sql`array[${sql.join(
      slots.map((slot) => sql`coalesce(sum(${column}) filter (where s.${slot}), 0)::float8`),
      sql`, `,
    )}]`;
  const weeklyFlags = sql.join(
    pieces.map((p, i) => sql`${within(sql`w.week`, p.weeks)} as ${slots[i]!}`),
    sql`, `,
  );
  const dailyFlags = sql.join(
    pieces.map((p) => within(sql`m.day`, p.days)),
    sql`, `,
  );

  const r = await sql<SumsRow>`
    select s.platform, s.platform_id,
           ${perRange(sql`s.spend`)} as spend, ${perRange(sql`s.impressions`)} as impressions, ${perRange(sql`s.clicks`)} as clicks,
           ${perRange(sql`s.conversions`)} as conversions, ${perRange(sql`s.conversion_value`)} as value
    from (
      select w.platform::text as platform, w.platform_id, ${weeklyFlags},
             w.spend, w.impressions, w.clicks, w.conversions, w.conversion_value
      from ads_engine.metrics_entity_weekly w
      where w.tenant_id = ${tenantId} and w.level = ${level} and w.platform = any(${inPlatforms}::text[])
        and w.week = any(${[...mondays]}::date[]) ${campaignFilter(sql`w.campaign_id`, sql`w.platform_id`)}
      union all
      select m.platform::text, m.platform_id, ${dailyFlags},
             m.spend, m.impressions, m.clicks, m.conversions, m.conversion_value
      from ads.metrics_daily m
      where m.tenant_id = ${tenantId} and m.level = ${level} and m.platform = any(${inPlatforms}::text[])
        and m.day = any(${[...days]}::date[]) ${campaignFilter(sql`m.campaign_id`, sql`m.platform_id`)}
    ) s
    group by s.platform, s.platform_id`.execute(trx);

  for (const row of r.rows) {
    out.set(`${row.platform}|${row.platform_id}`, {
      platform: row.platform,
      platformId: row.platform_id,
      ranges: ranges.map((_, i) => {
        const t = {} as Totals;
        for (const name of FIGURES) t[name] = Number(row[name][i]);
        return t;
      }),
    });
  }
  return out;
}
