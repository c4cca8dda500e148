// One record of a file to one row as it will be stored, or the problems that
// keep it out: every cell read with the file's styles (lib/ingest/values.ts),
// totals and blank rows recognised and skipped, each problem named by its row
// (as a spreadsheet numbers it) and column (its header). Pure.
import type { Layout } from './detect';
import { TOTALS_ROW, type HeaderField } from './headers';
import { DayReader, LIMITS, NumberReader, parseCurrency, parseId, parseName, quoteCell, type Parsed } from './values';
import type { ImportLevel, ImportPlatform, MetricRow, RowProblem } from './types';

/** A valid row, its figures as exact decimal strings (never through a double). */
export interface StagedRow {
  rowNo: number;
  platform: ImportPlatform;
  level: ImportLevel;
  platformId: string;
  day: string;
  entityName: string | null;
  campaignId: string;
  campaignName: string | null;
  spend: string;
  impressions: string;
  clicks: string;
  conversions: string;
  conversionValue: string;
}

export function toMetricRow(r: StagedRow): MetricRow {
  return {
    platform: r.platform,
    level: r.level,
    platformId: r.platformId,
    day: r.day,
    entityName: r.entityName,
    campaignId: r.campaignId,
    campaignName: r.campaignName,
    spend: Number(r.spend),
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
    conversions: Number(r.conversions),
    conversionValue: Number(r.conversionValue),
  };
}

/**
 * The keys (platform, level, id, day) of the rows staged, as they are read:
 * the range of their days, and whether a key came twice (then the set-based
 * check lists every row of it; otherwise it is skipped). The sets hold the
 * reader's own strings (an id or a day is one string however many rows
 * carry it), so a million rows cost a pointer each.
 */
export class StagedKeys {
  days: { from: string; to: string } | null = null;
  repeated = false;
  private readonly seen = new Map<string, Map<string, Set<string>>>();
  /** The last platform and level's days: a file has one of each. */
  private last: Map<string, Set<string>> | null = null;
  private lastPlatform = '';
  private lastLevel = '';

  add(platform: string, level: string, platformId: string, day: string): void {
    if (this.days === null) this.days = { from: day, to: day };
    else if (day < this.days.from) this.days.from = day;
    else if (day > this.days.to) this.days.to = day;
    if (this.repeated) return;
    let byDay = this.last;
    if (platform !== this.lastPlatform || level !== this.lastLevel || !byDay) {
      const group = `${platform}\t${level}`;
      byDay = this.seen.get(group) ?? null;
      if (!byDay) this.seen.set(group, (byDay = new Map()));
      this.last = byDay;
      this.lastPlatform = platform;
      this.lastLevel = level;
    }
    let ids = byDay.get(day);
    if (!ids) byDay.set(day, (ids = new Set()));
    const before = ids.size;
    ids.add(platformId);
    if (ids.size === before) {
      this.repeated = true;
      this.seen.clear();
      this.last = null;
    }
  }
}

export interface TenantFacts {
  currency: string;
  /** The tenant's today in its time zone: a later day has not happened yet. */
  today: string;
}

export type RecordOutcome =
  | { kind: 'row'; row: StagedRow }
  | { kind: 'skipped' }
  | { kind: 'invalid'; problems: RowProblem[] }
  /** The row states another currency than the tenant's: the whole file is refused. */
  | { kind: 'currency'; currency: string };

const blank = (s: string | undefined) => s === undefined || s.trim() === '' || s.trim() === '--' || s.trim() === '-';

/** Reads the records of one file, keeping its number style and date order as they get decided. */
export class RecordReader {
  readonly numbers: NumberReader;
  readonly days: DayReader;
  private readonly c: Partial<Record<HeaderField, number>>;
  private readonly identifying: number[];
  private readonly dimensions: number[];
  private readonly widest: number;

  constructor(
    private readonly layout: Layout,
    private readonly platform: ImportPlatform,
    private readonly tenant: TenantFacts,
  ) {
    this.numbers = new NumberReader(layout.numberStyle);
    this.days = new DayReader(layout.dateOrder);
    this.c = layout.columns;
    const c = this.c;
    this.identifying = [c.campaign_id, c.campaign_name, c.adset_id, c.adset_name].filter((i): i is number => i !== undefined);
    this.dimensions = [c.day, c.range_start, c.range_end, c.currency, ...this.identifying].filter((i): i is number => i !== undefined);
    this.widest = Math.max(...Object.values(c).filter((i): i is number => i !== undefined));
  }

  /** A problem of the row, in its list (made on the first: most rows have none). */
  private problem(list: RowProblem[] | null, row: number, col: number | undefined, message: string): RowProblem[] {
    const out = list ?? [];
    out.push({ row, column: col === undefined ? null : (this.layout.headers[col] ?? null), message });
    return out;
  }

  private header(i: number | undefined): string | null {
    return i === undefined ? null : (this.layout.headers[i] ?? null);
  }

  /** Ids and names repeat on every day of an entity: each distinct text is checked once (a map per kind: no key to build per cell). */
  private readonly texts = { 'campaign ID': new Map(), 'ad set ID': new Map(), 'campaign name': new Map(), 'ad set name': new Map() } as Record<
    'campaign ID' | 'ad set ID' | 'campaign name' | 'ad set name',
    Map<string, Parsed<string | null>>
  >;

  private text(raw: string, what: 'campaign ID' | 'ad set ID' | 'campaign name' | 'ad set name'): Parsed<string | null> {
    const seen = this.texts[what];
    let r = seen.get(raw);
    if (r === undefined) {
      r = what === 'campaign ID' || what === 'ad set ID' ? parseId(raw, what) : parseName(raw, what);
      if (seen.size >= 100_000) seen.clear();
      seen.set(raw, r);
    }
    return r;
  }

  read(cells: string[], rowNo: number): RecordOutcome {
    const c = this.c;
    let empty = true;
    for (let i = 0; i < cells.length; i++) {
      if (cells[i]!.trim() !== '') {
        empty = false;
        break;
      }
    }
    if (empty) return { kind: 'skipped' };
    const idBlank = blank(cells[c.campaign_id!]) && (c.adset_id === undefined || blank(cells[c.adset_id]));
    if (idBlank) {
      // A summary line (Meta's blank-name totals, Google's "Total: Account", TikTok's "Total of 25 results"): no id to store it under.
      const summary =
        TOTALS_ROW.test(cells[0] ?? '') ||
        this.identifying.every((i) => blank(cells[i]) || TOTALS_ROW.test(cells[i] ?? '')) ||
        this.dimensions.some((i) => TOTALS_ROW.test(cells[i] ?? ''));
      if (summary) return { kind: 'skipped' };
    }

    const headers = this.layout.headers;
    if (cells.length <= this.widest) {
      return { kind: 'invalid', problems: [{ row: rowNo, column: null, message: `The row has ${cells.length} cells, the header ${headers.length}: it is cut short.` }] };
    }
    if (cells.length > headers.length) {
      for (let i = headers.length; i < cells.length; i++) {
        if (cells[i]!.trim() !== '') {
          return {
            kind: 'invalid',
            problems: [{ row: rowNo, column: null, message: `The row has ${cells.length} cells, the header ${headers.length}: a cell holds an unquoted delimiter?` }],
          };
        }
      }
    }

    let problems: RowProblem[] | null = null;

    if (c.currency !== undefined) {
      const cur = parseCurrency(cells[c.currency]!);
      if (!cur.ok) problems = this.problem(problems, rowNo, c.currency, cur.message);
      else if (cur.value && cur.value !== this.tenant.currency) return { kind: 'currency', currency: cur.value };
    }

    const dayR = this.days.read(cells[c.day!]!);
    const day = dayR.ok ? dayR.value : null;
    if (!dayR.ok) problems = this.problem(problems, rowNo, c.day, dayR.message);
    if (day !== null && c.range_end !== undefined && c.day === c.range_start) {
      const end = this.days.read(cells[c.range_end]!);
      if (!end.ok) problems = this.problem(problems, rowNo, c.range_end, end.message);
      else if (end.value !== day) problems = this.problem(problems, rowNo, c.range_end, `The row covers ${day} to ${end.value}: export the report with a breakdown by day.`);
    }
    if (day !== null && day > this.tenant.today) {
      problems = this.problem(problems, rowNo, c.day, `${day} is after today (${this.tenant.today} in the tenant's time zone): figures of a day to come.`);
    }

    const cid = this.text(cells[c.campaign_id!]!, 'campaign ID');
    if (!cid.ok) problems = this.problem(problems, rowNo, c.campaign_id, cid.message);
    let campaignName: string | null = null;
    if (c.campaign_name !== undefined) {
      const r = this.text(cells[c.campaign_name]!, 'campaign name');
      if (r.ok) campaignName = r.value;
      else problems = this.problem(problems, rowNo, c.campaign_name, r.message);
    }
    let level: ImportLevel = 'campaign';
    let platformId = cid.ok ? cid.value : null;
    let entityName = campaignName;
    if (c.adset_id !== undefined) {
      level = 'adset';
      const aid = this.text(cells[c.adset_id]!, 'ad set ID');
      platformId = aid.ok ? aid.value : null;
      if (!aid.ok) problems = this.problem(problems, rowNo, c.adset_id, aid.message);
      entityName = null;
      if (c.adset_name !== undefined) {
        const r = this.text(cells[c.adset_name]!, 'ad set name');
        if (r.ok) entityName = r.value;
        else problems = this.problem(problems, rowNo, c.adset_name, r.message);
      }
    }

    const n = this.numbers;
    const spend = c.spend === undefined ? ZERO : n.read(cells[c.spend]!, 'amount');
    if (!spend.ok) problems = this.problem(problems, rowNo, c.spend, spend.message);
    const impressions = c.impressions === undefined ? ZERO : n.read(cells[c.impressions]!, 'count');
    if (!impressions.ok) problems = this.problem(problems, rowNo, c.impressions, impressions.message);
    const clicks = c.clicks === undefined ? ZERO : n.read(cells[c.clicks]!, 'count');
    if (!clicks.ok) problems = this.problem(problems, rowNo, c.clicks, clicks.message);
    const conversions = c.conversions === undefined ? ZERO : n.read(cells[c.conversions]!, 'amount');
    if (!conversions.ok) problems = this.problem(problems, rowNo, c.conversions, conversions.message);
    const value = c.conversion_value === undefined ? ZERO : n.read(cells[c.conversion_value]!, 'amount', LIMITS.value);
    if (!value.ok) problems = this.problem(problems, rowNo, c.conversion_value, value.message);

    if (problems !== null || !spend.ok || !impressions.ok || !clicks.ok || !conversions.ok || !value.ok) {
      return { kind: 'invalid', problems: problems ?? [] };
    }
    return {
      kind: 'row',
      row: {
        rowNo,
        platform: this.platform,
        level,
        platformId: platformId!,
        day: day!,
        entityName,
        campaignId: (cid as { value: string }).value,
        campaignName,
        spend: spend.value,
        impressions: impressions.value,
        clicks: clicks.value,
        conversions: conversions.value,
        conversionValue: value.value,
      },
    };
  }
}

const ZERO: Parsed<string> = { ok: true, value: '0' };

export function currencyRefusal(fileCurrency: string, tenantCurrency: string, where: string): string {
  return (
    `The export is in ${fileCurrency}${where}, the tenant reports in ${tenantCurrency}: amounts are never converted. ` +
    `Export the account in ${tenantCurrency}, or import it into a tenant that reports in ${fileCurrency}.`
  );
}

export { quoteCell };
