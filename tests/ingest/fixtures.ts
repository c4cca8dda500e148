// Exports in each platform's own shape, made by the tests from known rows:
// Meta (English, and French with a byte-order mark, semicolons and dd/mm/yyyy),
// Google Ads (its two preamble lines and totals rows; German; the tab-separated
// UTF-16 "Excel CSV"), TikTok, LinkedIn (M/D/YYYY). Figures are integers of
// the smallest unit (cents, hundredths of a conversion), so the tests add them
// up exactly and independently of the code under test.
import type pg from 'pg';

export interface TruthRow {
  campaignId: string;
  campaignName: string;
  adsetId?: string;
  adsetName?: string;
  day: string;
  spendCents: number;
  impressions: number;
  clicks: number;
  /** Conversions in hundredths (Google reports fractions). */
  conversions100: number;
  valueCents: number;
}

/** A small deterministic generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export interface RowsSpec {
  campaigns: number;
  /** Ad sets per campaign: ad-set rows when given. */
  adsets?: number;
  days: number;
  /** The last day (the others are before it). */
  lastDay: string;
  seed?: number;
  /** How ids look: Meta's 18 digits, Google's 10, TikTok's 19, LinkedIn's 9. */
  idDigits?: number;
  /** Conversions in hundredths (true) or whole. */
  fractional?: boolean;
  /** Names with the characters exports carry: accents, quotes, delimiters, emoji. */
  trickyNames?: boolean;
}

const TRICKY = ['Été "soldes", FR', 'Prospecting; DE – Ü', 'Retargeting 🚀 | UK', "L'Oréal — Q1", 'Brand\\Generic'];

export function makeRows(spec: RowsSpec): TruthRow[] {
  const r = rng(spec.seed ?? 1);
  const digits = spec.idDigits ?? 18;
  const id = (n: number, salt: number) => `${String(1 + (salt % 9))}${String(n + 1).padStart(digits - 1, '0')}`;
  const rows: TruthRow[] = [];
  for (let c = 0; c < spec.campaigns; c++) {
    const campaignId = id(c * 1000 + 7, 1);
    const campaignName = spec.trickyNames ? `${TRICKY[c % TRICKY.length]} #${c}` : `Campaign ${c}`;
    const sets = spec.adsets ?? 0;
    for (let s = 0; s < Math.max(sets, 1); s++) {
      for (let d = 0; d < spec.days; d++) {
        const impressions = Math.floor(r() * 200_000);
        const clicks = Math.floor(impressions * r() * 0.04);
        const conversions = Math.floor(clicks * r() * 0.1);
        rows.push({
          campaignId,
          campaignName,
          ...(sets ? { adsetId: id(c * 1000 + s + 100, 2), adsetName: spec.trickyNames ? `${TRICKY[(c + s) % TRICKY.length]} / set ${s}` : `Ad set ${c}.${s}` } : {}),
          day: addDays(spec.lastDay, d - spec.days + 1),
          spendCents: Math.floor(r() * 250_000_00),
          impressions,
          clicks,
          conversions100: spec.fractional ? Math.floor(conversions * 100 + r() * 100) : conversions * 100,
          valueCents: Math.floor(conversions * r() * 12_000),
        });
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Writing numbers and days as each locale does
// ---------------------------------------------------------------------------

/** plain 1234.56; en 1,234.56; de 1.234,56; fr 1 234,56 (narrow no-break space); frs 1 234,56 (plain space); comma 1234,56. */
export type NumberFormat = 'plain' | 'en' | 'de' | 'fr' | 'frs' | 'comma';

function group(int: string, sep: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** A value given in units of 1/10^decimals, written with exactly `decimals` decimals (0: a whole number). */
export function writeNumber(units: number, decimals: number, fmt: NumberFormat): string {
  const neg = units < 0;
  const s = String(Math.abs(units)).padStart(decimals + 1, '0');
  const int = decimals ? s.slice(0, -decimals) : s;
  const frac = decimals ? s.slice(-decimals) : '';
  const [g, d] = ({ plain: ['', '.'], en: [',', '.'], de: ['.', ','], fr: ['\u202f', ','], frs: [' ', ','], comma: ['', ','] } as const)[fmt];
  return (neg ? '-' : '') + group(int, g) + (frac ? d + frac : '');
}

export type DayFormat = 'iso' | 'dmy' | 'dmy-dots' | 'mdy';

export function writeDay(day: string, fmt: DayFormat): string {
  const [y, m, d] = day.split('-');
  if (fmt === 'iso') return day;
  if (fmt === 'dmy') return `${d}/${m}/${y}`;
  if (fmt === 'dmy-dots') return `${d}.${m}.${y}`;
  return `${Number(m)}/${Number(d)}/${y}`;
}

// ---------------------------------------------------------------------------
// CSV text and bytes
// ---------------------------------------------------------------------------

export function cell(v: string, delimiter: string, quoteAll = false): string {
  return quoteAll || v.includes(delimiter) || /["\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csv(rows: string[][], delimiter = ',', eol = '\n', quoteAll = false): string {
  return rows.map((r) => r.map((v) => cell(v, delimiter, quoteAll)).join(delimiter)).join(eol) + eol;
}

export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'utf-16le-nobom' | 'windows-1252';

/** Windows-1252's bytes 0x80-0x9F (the rest of its upper half is Latin-1), from its code page chart; the five unassigned left out. */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/** Text as Excel's "CSV" saves it on a Western European Windows; a character the code page lacks is a mistake of the test. */
function windows1252(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const high = CP1252_HIGH.indexOf(text[i]!);
    if (c < 0x80 || (c >= 0xa0 && c <= 0xff)) out[i] = c;
    else if (high >= 0 && ![0x81, 0x8d, 0x8f, 0x90, 0x9d].includes(0x80 + high)) out[i] = 0x80 + high;
    else throw new Error(`windows-1252 has no ${JSON.stringify(text[i])}`);
  }
  return out;
}

export function bytesOf(text: string, enc: TextEncoding = 'utf-8'): Buffer {
  switch (enc) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf-16le-nobom':
      return Buffer.from(text, 'utf16le');
    case 'windows-1252':
      return windows1252(text);
    case 'utf-16be': {
      const le = Buffer.from(text, 'utf16le');
      const be = Buffer.alloc(le.length);
      for (let i = 0; i < le.length; i += 2) {
        be[i] = le[i + 1]!;
        be[i + 1] = le[i]!;
      }
      return Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
    }
  }
}

// ---------------------------------------------------------------------------
// The platforms' exports
// ---------------------------------------------------------------------------

export interface ExportOptions {
  currency?: string;
  /** Totals rows as the platform writes them. */
  totals?: boolean;
  numbers?: NumberFormat;
  days?: DayFormat;
  eol?: string;
}

const sum = (rows: TruthRow[], f: (r: TruthRow) => number) => rows.reduce((a, r) => a + f(r), 0);

/** Meta Ads Manager, English: the totals row first (blank name), then one row per campaign (or ad set) and day. */
export function metaExport(rows: TruthRow[], o: ExportOptions & { lang?: 'en' | 'fr'; clicksAll?: boolean } = {}): string {
  const fr = o.lang === 'fr';
  const cur = o.currency ?? 'EUR';
  const nf: NumberFormat = o.numbers ?? (fr ? 'frs' : 'plain');
  const df: DayFormat = o.days ?? (fr ? 'dmy' : 'iso');
  const delimiter = fr ? ';' : ',';
  const adset = rows.some((r) => r.adsetId);
  const head = fr
    ? ['Début des rapports', 'Fin des rapports', 'Jour', 'Nom de la campagne', 'Identifiant de la campagne',
       ...(adset ? ["Nom de l’ensemble de publicités", "Identifiant de l’ensemble de publicités"] : []),
       `Montant dépensé (${cur})`, 'Impressions', 'Clics sur un lien', 'Résultats', 'Achats', 'Valeur de conversion des achats']
    : ['Reporting starts', 'Reporting ends', 'Day', 'Campaign name', 'Campaign ID', ...(adset ? ['Ad set name', 'Ad set ID'] : []),
       `Amount spent (${cur})`, 'Impressions', o.clicksAll ? 'Clicks (all)' : 'Link clicks', 'Results', 'Purchases', 'Purchases conversion value'];
  const first = rows.reduce((a, r) => (r.day < a ? r.day : a), rows[0]?.day ?? '2024-01-01');
  const last = rows.reduce((a, r) => (r.day > a ? r.day : a), first);
  const figures = (rs: TruthRow[]) => [
    writeNumber(sum(rs, (r) => r.spendCents), 2, nf),
    writeNumber(sum(rs, (r) => r.impressions), 0, nf),
    writeNumber(sum(rs, (r) => r.clicks), 0, nf),
    writeNumber(sum(rs, (r) => r.conversions100), 2, nf),
    writeNumber(sum(rs, (r) => Math.round(r.conversions100 / 100)), 0, nf),
    writeNumber(sum(rs, (r) => r.valueCents), 2, nf),
  ];
  const lines: string[][] = [head];
  if (o.totals !== false) lines.push([writeDay(first, df), writeDay(last, df), '', '', '', ...(adset ? ['', ''] : []), ...figures(rows)]);
  for (const r of rows) {
    lines.push([writeDay(r.day, df), writeDay(r.day, df), writeDay(r.day, df), r.campaignName, r.campaignId,
      ...(adset ? [r.adsetName!, r.adsetId!] : []), ...figures([r])]);
  }
  return csv(lines, delimiter, o.eol ?? '\n');
}

/** Google Ads, English or German: report name and date range, the header, rows, then "Total: ..." rows; "--" for nothing. */
export function googleExport(rows: TruthRow[], o: ExportOptions & { lang?: 'en' | 'de'; tabs?: boolean; report?: string } = {}): string {
  const de = o.lang === 'de';
  const cur = o.currency ?? 'EUR';
  const nf: NumberFormat = o.numbers ?? (de ? 'de' : 'en');
  const df: DayFormat = o.days ?? 'iso';
  const delimiter = o.tabs ? '\t' : ',';
  const adset = rows.some((r) => r.adsetId);
  const head = de
    ? ['Tag', 'Kampagne', 'Kampagnen-ID', ...(adset ? ['Anzeigengruppe', 'Anzeigengruppen-ID'] : []), 'Währungscode', 'Impr.', 'Klicks', 'Kosten', 'Conversions', 'Conv.-Wert']
    : ['Day', 'Campaign', 'Campaign ID', ...(adset ? ['Ad group', 'Ad group ID'] : []), 'Currency code', 'Impr.', 'Clicks', 'Cost', 'Conversions', 'Conv. value'];
  const first = rows.reduce((a, r) => (r.day < a ? r.day : a), rows[0]?.day ?? '2024-01-01');
  const last = rows.reduce((a, r) => (r.day > a ? r.day : a), first);
  const figures = (rs: TruthRow[]) => {
    const value = sum(rs, (r) => r.valueCents);
    return [
      writeNumber(sum(rs, (r) => r.impressions), 0, nf),
      writeNumber(sum(rs, (r) => r.clicks), 0, nf),
      writeNumber(sum(rs, (r) => r.spendCents), 2, nf),
      writeNumber(sum(rs, (r) => r.conversions100), 2, nf),
      value === 0 ? '--' : writeNumber(value, 2, nf),
    ];
  };
  const lines: string[][] = [
    [o.report ?? (de ? 'Kampagnenbericht' : 'Campaign report')],
    [de ? `${writeDay(first, 'dmy-dots')} - ${writeDay(last, 'dmy-dots')}` : `${first} - ${last}`],
    head,
  ];
  for (const r of rows) {
    lines.push([writeDay(r.day, df), r.campaignName, r.campaignId, ...(adset ? [r.adsetName!, r.adsetId!] : []), cur, ...figures([r])]);
  }
  if (o.totals !== false) {
    const blanks = adset ? ['--', '--', '--', '--'] : ['--', '--'];
    lines.push([de ? 'Gesamt: Konto' : 'Total: Account', ...blanks, cur, ...figures(rows)]);
    lines.push([de ? 'Gesamt: Kampagnen' : 'Total: Campaigns', ...blanks, cur, ...figures(rows)]);
  }
  return csv(lines, delimiter, o.eol ?? '\r\n');
}

/** TikTok Ads Manager: "By Day", "Clicks (destination)", "Total conversion value". */
export function tiktokExport(rows: TruthRow[], o: ExportOptions = {}): string {
  const nf = o.numbers ?? 'plain';
  const adset = rows.some((r) => r.adsetId);
  const lines: string[][] = [
    ['By Day', 'Campaign name', 'Campaign ID', ...(adset ? ['Ad group name', 'Ad group ID'] : []), 'Cost', 'Impressions', 'Clicks (destination)', 'Conversions', 'Total conversion value', 'Currency'],
  ];
  for (const r of rows) {
    lines.push([writeDay(r.day, o.days ?? 'iso'), r.campaignName, r.campaignId, ...(adset ? [r.adsetName!, r.adsetId!] : []),
      writeNumber(r.spendCents, 2, nf), writeNumber(r.impressions, 0, nf), writeNumber(r.clicks, 0, nf),
      writeNumber(Math.round(r.conversions100 / 100) * 100, 2, nf).replace(/[.,]00$/, ''), writeNumber(r.valueCents, 2, nf), o.currency ?? 'EUR']);
  }
  if (o.totals !== false) lines.push([`Total of ${rows.length} results`, '-', '-', ...(adset ? ['-', '-'] : []), '-', '-', '-', '-', '-', '-']);
  return csv(lines, ',', o.eol ?? '\n');
}

/** LinkedIn Campaign Manager: M/D/YYYY days, "Total Spent", "Leads". */
export function linkedinExport(rows: TruthRow[], o: ExportOptions = {}): string {
  const nf = o.numbers ?? 'plain';
  const lines: string[][] = [
    ['Start Date (in UTC)', 'Account Name', 'Campaign Name', 'Campaign ID', 'Currency', 'Total Spent', 'Impressions', 'Clicks', 'Conversions', 'Leads'],
  ];
  for (const r of rows) {
    lines.push([writeDay(r.day, o.days ?? 'mdy'), 'Acme B2B', r.campaignName, r.campaignId, o.currency ?? 'EUR', writeNumber(r.spendCents, 2, nf),
      writeNumber(r.impressions, 0, nf), writeNumber(r.clicks, 0, nf), writeNumber(Math.round(r.conversions100 / 100), 0, nf), '0']);
  }
  return csv(lines, ',', o.eol ?? '\n');
}

/** TikTok and LinkedIn carry whole conversions in these fixtures, Meta and Google the hundredths. */
export function wholeConversions(rows: TruthRow[]): TruthRow[] {
  return rows.map((r) => ({ ...r, conversions100: Math.round(r.conversions100 / 100) * 100 }));
}

// ---------------------------------------------------------------------------
// Expected and stored figures, per day, computed apart from the code under test
// ---------------------------------------------------------------------------

export interface DaySums {
  rows: number;
  spend: string;
  impressions: string;
  clicks: string;
  conversions: string;
  value: string;
}

const cents = (n: number) => writeNumber(n, 2, 'plain');

/** The truth rows' sums per day, as text with two decimals (what sum()::text gives for numeric(14,2)). */
export function expectedByDay(rows: TruthRow[]): Record<string, DaySums> {
  const out: Record<string, { rows: number; s: number; i: number; c: number; v: number; cv: number }> = {};
  for (const r of rows) {
    const d = (out[r.day] ??= { rows: 0, s: 0, i: 0, c: 0, v: 0, cv: 0 });
    d.rows++;
    d.s += r.spendCents;
    d.i += r.impressions;
    d.c += r.clicks;
    d.cv += r.conversions100;
    d.v += r.valueCents;
  }
  return Object.fromEntries(
    Object.entries(out).map(([day, d]) => [day, { rows: d.rows, spend: cents(d.s), impressions: String(d.i), clicks: String(d.c), conversions: cents(d.cv), value: cents(d.v) }]),
  );
}

/** What is stored, per day, for the tenant (as the owner, in the tenant's transaction). */
export async function storedByDay(owner: pg.Pool, tenant: string, where = 'true'): Promise<Record<string, DaySums>> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const r = await c.query<{ day: string; rows: number; spend: string; impressions: string; clicks: string; conversions: string; value: string }>(
      `select day::text as day, count(*)::int as rows, sum(spend)::text as spend, sum(impressions)::text as impressions, sum(clicks)::text as clicks,
              sum(conversions)::text as conversions, sum(conversion_value)::text as value
         from ads.metrics_daily where tenant_id = $1 and ${where} group by day order by day`,
      [tenant],
    );
    await c.query('commit');
    return Object.fromEntries(r.rows.map(({ day, ...s }) => [day, s]));
  } finally {
    c.release();
  }
}

/** Every stored row of the tenant, ordered, with updated_at (for "nothing changed"). */
export async function storedRows(owner: pg.Pool, tenant: string): Promise<Record<string, string>[]> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const r = await c.query<Record<string, string>>(
      `select platform, level, platform_id, day::text as day, entity_name, campaign_id, campaign_name, spend::text as spend,
              impressions::text as impressions, clicks::text as clicks, conversions::text as conversions,
              conversion_value::text as conversion_value, updated_at::text as updated_at, xmin::text as xmin
         from ads.metrics_daily where tenant_id = $1 order by platform, level, platform_id, day`,
      [tenant],
    );
    await c.query('commit');
    return r.rows;
  } finally {
    c.release();
  }
}

/** The tenant's rollup rows, for "no rollup churn". */
export async function rollupRows(owner: pg.Pool, tenant: string): Promise<string[]> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const a = await c.query<{ r: string }>(
      `select (d.*)::text || ' ' || d.xmin::text as r from ads_engine.metrics_platform_daily d where d.tenant_id = $1 order by d.level, d.day, d.platform`,
      [tenant],
    );
    const b = await c.query<{ r: string }>(
      `select (w.*)::text || ' ' || w.xmin::text as r from ads_engine.metrics_entity_weekly w where w.tenant_id = $1 order by w.level, w.platform, w.week, w.platform_id`,
      [tenant],
    );
    await c.query('commit');
    return [...a.rows.map((x) => x.r), ...b.rows.map((x) => x.r)];
  } finally {
    c.release();
  }
}

/** The tenant's yesterday (its time zone), as the engine sees it. */
export async function tenantYesterday(owner: pg.Pool, tenant: string): Promise<string> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query("select set_config('saas.tenant_id', $1, true)", [tenant]);
    const r = await c.query<{ d: string }>('select ads_engine.tenant_yesterday($1)::text as d', [tenant]);
    await c.query('commit');
    return r.rows[0]!.d;
  } finally {
    c.release();
  }
}
