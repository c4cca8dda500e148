// Small fixtures for the engine tests: metric rows written in one statement,
// day arithmetic on 'YYYY-MM-DD' strings, and numeric columns read as numbers.
import type pg from 'pg';

/** A fixed "last complete day" for exact fixtures (a Monday). */
export const AS_OF = '2025-03-31';

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** ISO weekday, 1 = Monday .. 7 = Sunday. */
export function isoDow(day: string): number {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export interface MetricRow {
  platform?: string;
  level?: string;
  id: string;
  day: string;
  spend?: number;
  impressions?: number;
  clicks?: number;
  conversions?: number;
  value?: number;
  name?: string | null;
}

/** Inserts rows for the tenant (the connection must have it set, or be the superuser). */
export async function insertMetrics(c: pg.ClientBase, tenantId: string, rows: MetricRow[]): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `insert into ads.metrics_daily (tenant_id, platform, level, platform_id, day, entity_name, spend, impressions, clicks, conversions, conversion_value)
     select $1, p, l, id, d::date, n, s, i, c, k, v
     from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::bigint[], $9::bigint[], $10::numeric[], $11::numeric[])
          as t(p, l, id, d, n, s, i, c, k, v)`,
    [
      tenantId,
      rows.map((r) => r.platform ?? 'meta'),
      rows.map((r) => r.level ?? 'campaign'),
      rows.map((r) => r.id),
      rows.map((r) => r.day),
      rows.map((r) => (r.name === undefined ? `Campaign ${r.id}` : r.name)),
      rows.map((r) => r.spend ?? 0),
      rows.map((r) => r.impressions ?? 0),
      rows.map((r) => r.clicks ?? 0),
      rows.map((r) => r.conversions ?? 0),
      rows.map((r) => r.value ?? 0),
    ],
  );
}

/** One row per day from `from` to `to` (inclusive), made by fn(day, index). */
export function daily(from: string, to: string, fn: (day: string, i: number) => Omit<MetricRow, 'day'> | null): MetricRow[] {
  const out: MetricRow[] = [];
  for (let day = from, i = 0; day <= to; day = addDays(day, 1), i++) {
    const r = fn(day, i);
    if (r) out.push({ ...r, day });
  }
  return out;
}

/** Numeric columns come back from pg as strings: convert the listed ones. */
export function nums<T extends Record<string, unknown>>(row: T, ...keys: (keyof T)[]): T {
  const out: Record<string, unknown> = { ...row };
  for (const k of keys) {
    const v = row[k];
    out[k as string] = v === null || v === undefined ? v : Number(v);
  }
  return out as T;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function stddevSamp(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}
