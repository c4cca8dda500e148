// importRows: the ingest API's door into the import core. JSON rows
// ({ platform, level?, campaign_id, ..., day, spend, ... }) are checked one by
// one with the same readers as a file's cells (lib/ingest/values.ts), then
// take the same road: COPY into the staging table, the set-based checks, the
// write (changed rows updated, new keys inserted), the history and the audit
// row (lib/ingest/settle.ts). Problems
// name the row by its index in `rows` (from 0) and the field at fault.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { TenantFacts, StagedRow } from './records';
import { currencyRefusal, StagedKeys } from './records';
import { recordFailure, settle, refuse, type RunContext, type Settled, type Tally } from './settle';
import { copyLine, ImportTransaction, isUuid, rowKey } from './store';
import { LIMITS, parseCurrency, parseDay, parseId, parseName, parseNumber, quoteCell, type Parsed } from './values';
import {
  IMPORT_PLATFORMS,
  MAX_PROBLEMS,
  MAX_ROWS_PER_CALL,
  type ImportLevel,
  type ImportPlatform,
  type RowProblem,
  type RowsImportOptions,
  type RowsImportResult,
  type RowsProblem,
} from './types';

const FIELDS = new Set([
  'platform',
  'level',
  'campaign_id',
  'campaign_name',
  'adset_id',
  'adset_name',
  'day',
  'spend',
  'impressions',
  'clicks',
  'conversions',
  'conversion_value',
  'currency',
]);

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

type Checked = { kind: 'row'; row: StagedRow } | { kind: 'invalid'; problems: RowsProblem[] } | { kind: 'currency'; currency: string };

function idOf(v: unknown, field: string, what: string): Parsed<string> {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return { ok: true, value: String(v) };
    return { ok: false, message: `${field}: send the id as a string (as a JSON number it loses digits).` };
  }
  if (typeof v !== 'string') return { ok: false, message: `${field}: required, a string.` };
  const r = parseId(v, what);
  return r.ok ? r : { ok: false, message: `${field}: ${r.message}` };
}

function nameOf(v: unknown, field: string, what: string): Parsed<string | null> {
  if (v === undefined || v === null) return { ok: true, value: null };
  if (typeof v !== 'string') return { ok: false, message: `${field}: a string or null.` };
  const r = parseName(v, what);
  return r.ok ? r : { ok: false, message: `${field}: ${r.message}` };
}

/** A JSON number (or a numeric string in 1234.56 style) as the canonical decimal of the file readers. */
function numberOf(v: unknown, field: string, kind: 'amount' | 'count', intDigits?: number): Parsed<string> {
  let text: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { ok: false, message: `${field}: a finite number.` };
    if (v < 0) return { ok: false, message: `${field}: must be 0 or more.` };
    if (kind === 'count' && !Number.isInteger(v)) return { ok: false, message: `${field}: must be a whole number.` };
    if (kind === 'count' && !Number.isSafeInteger(v)) return { ok: false, message: `${field}: at most ${Number.MAX_SAFE_INTEGER}.` };
    text = Math.abs(v) < 1e-6 ? '0' : String(v);
    if (/e/i.test(text)) return { ok: false, message: `${field}: too large.` };
  } else if (typeof v === 'string' && v.trim() !== '') {
    text = v;
  } else {
    return { ok: false, message: v === undefined ? `${field}: required.` : `${field}: a number.` };
  }
  const r = parseNumber(text, 'dot', kind, intDigits);
  return r.ok ? r : { ok: false, message: `${field}: ${r.message}` };
}

/** One JSON row: its stored form, or every problem it has. */
export function checkRow(raw: unknown, index: number, tenant: TenantFacts): Checked {
  const problems: RowsProblem[] = [];
  const add = (field: string | null, message: string) => problems.push({ index, field, message });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    add(null, 'A row must be a JSON object of metric fields.');
    return { kind: 'invalid', problems };
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!FIELDS.has(k)) {
      add(k, k === 'tenant_id' ? 'tenant_id: not accepted; the API key decides the tenant.' : `${quoteCell(k, 60)}: unknown field.`);
    }
  }

  if (o.currency !== undefined) {
    const cur = typeof o.currency === 'string' ? parseCurrency(o.currency) : { ok: false as const, message: 'a currency code such as EUR' };
    if (!cur.ok) add('currency', `currency: ${cur.message}`);
    else if (cur.value && cur.value !== tenant.currency) return { kind: 'currency', currency: cur.value };
  }

  const platform = o.platform;
  if (typeof platform !== 'string' || !(IMPORT_PLATFORMS as readonly string[]).includes(platform)) {
    add('platform', `platform: one of ${IMPORT_PLATFORMS.join(', ')}.`);
  }
  let level: ImportLevel | null = null;
  if (o.level === undefined) level = o.adset_id !== undefined ? 'adset' : 'campaign';
  else if (o.level === 'campaign' || o.level === 'adset') level = o.level;
  else add('level', `level: unknown level ${typeof o.level === 'string' ? quoteCell(o.level) : JSON.stringify(o.level)}: campaign or adset.`);

  const campaignId = idOf(o.campaign_id, 'campaign_id', 'campaign ID');
  if (!campaignId.ok) add('campaign_id', campaignId.message);
  const campaignName = nameOf(o.campaign_name, 'campaign_name', 'campaign name');
  if (!campaignName.ok) add('campaign_name', campaignName.message);
  let platformId: string | null = campaignId.ok ? campaignId.value : null;
  let entityName: string | null = campaignName.ok ? campaignName.value : null;
  if (level === 'adset') {
    const adsetId = idOf(o.adset_id, 'adset_id', 'ad set ID');
    if (!adsetId.ok) add('adset_id', o.adset_id === undefined ? 'adset_id: required for an ad set row.' : adsetId.message);
    const adsetName = nameOf(o.adset_name, 'adset_name', 'ad set name');
    if (!adsetName.ok) add('adset_name', adsetName.message);
    platformId = adsetId.ok ? adsetId.value : null;
    entityName = adsetName.ok ? adsetName.value : null;
  } else if (level === 'campaign' && (o.adset_id !== undefined || (o.adset_name !== undefined && o.adset_name !== null))) {
    add(o.adset_id !== undefined ? 'adset_id' : 'adset_name', 'A campaign row carries no ad set: drop adset_id and adset_name, or send level adset.');
  }

  let day: string | null = null;
  if (typeof o.day !== 'string' || !ISO_DAY.test(o.day)) add('day', 'day: a day written YYYY-MM-DD.');
  else {
    const d = parseDay(o.day, null);
    if (!d.ok) add('day', `day: ${d.message}`);
    else if (d.value > tenant.today) add('day', `day: ${d.value} is after today (${tenant.today} in the tenant's time zone).`);
    else day = d.value;
  }

  const spend = numberOf(o.spend, 'spend', 'amount');
  const impressions = numberOf(o.impressions, 'impressions', 'count');
  const clicks = numberOf(o.clicks, 'clicks', 'count');
  const conversions = numberOf(o.conversions, 'conversions', 'amount');
  const value = numberOf(o.conversion_value, 'conversion_value', 'amount', LIMITS.value);
  for (const [f, r] of [['spend', spend], ['impressions', impressions], ['clicks', clicks], ['conversions', conversions], ['conversion_value', value]] as const) {
    if (!r.ok) add(f, r.message);
  }

  if (problems.length || !spend.ok || !impressions.ok || !clicks.ok || !conversions.ok || !value.ok) return { kind: 'invalid', problems };
  return {
    kind: 'row',
    row: {
      rowNo: index,
      platform: platform as ImportPlatform,
      level: level!,
      platformId: platformId!,
      day: day!,
      entityName,
      campaignId: (campaignId as { value: string }).value,
      campaignName: campaignName.ok ? campaignName.value : null,
      spend: spend.value,
      impressions: impressions.value,
      clicks: clicks.value,
      conversions: conversions.value,
      conversionValue: value.value,
    },
  };
}

const asRowProblem = (p: RowsProblem): RowProblem => ({ row: p.index, column: p.field, message: p.message });
const asRowsProblem = (p: RowProblem): RowsProblem => ({ index: p.row, field: p.column, message: p.message });

/**
 * Import JSON rows for the tenant of an API key, with the file import's
 * validation and write. Resolves with every row's outcome by index, or the
 * refusal (nothing written); rejects only when the database fails.
 */
export async function importRows(pool: pg.Pool, rows: unknown[], opts: RowsImportOptions): Promise<RowsImportResult> {
  if (!isUuid(opts.tenantId)) throw new Error('importRows: tenantId must be a uuid');
  if (opts.apiKeyId != null && !isUuid(opts.apiKeyId)) throw new Error('importRows: apiKeyId must be a uuid');
  if (opts.userId != null && !isUuid(opts.userId)) throw new Error('importRows: userId must be a uuid');
  const source = opts.source ?? 'api';
  if (source === 'api' && !opts.apiKeyId) throw new Error('importRows: an API import needs its key');
  if (source === 'upload' && !opts.userId) throw new Error('importRows: an upload needs the user who sent it');
  if (!Array.isArray(rows)) throw new Error('importRows: rows must be an array');

  const startedAt = new Date();
  const tally: Tally = { read: rows.length, skipped: 0, rejected: 0, staged: 0, keys: new StagedKeys(), problems: [], problemCount: 0 };
  const tx = await ImportTransaction.open(pool, opts.tenantId, opts.userId ?? null);
  const ctx: RunContext = {
    pool,
    tx,
    tenantId: opts.tenantId,
    userId: opts.userId ?? null,
    apiKeyId: opts.apiKeyId ?? null,
    actorLabel: null,
    source,
    startedAt,
    fileName: null,
    bytes: () => null,
    platform: null,
    format: 'api',
    level: null,
    skipInvalid: opts.skipInvalid === true,
    dryRun: false,
    progress: () => undefined,
  };
  const problems: RowsProblem[] = [];
  const fail = (s: Settled): RowsImportResult => ({
    ok: false,
    refusal: s.refusal!,
    counts: s.counts,
    problems: s.problems.map(asRowsProblem),
    problemCount: s.problemCount,
    rejected: rejectedList([...problems, ...s.duplicates.map(asRowsProblem)]),
    runId: s.runId,
    changedDays: null,
    inserted: [],
    updated: [],
    unchanged: [],
  });

  try {
    if (rows.length > MAX_ROWS_PER_CALL) {
      return fail(await refuse(ctx, { code: 'too_large', message: `At most ${MAX_ROWS_PER_CALL} rows a request (this one has ${rows.length}): split the load.` }, tally));
    }
    if (rows.length === 0) return fail(await refuse(ctx, { code: 'empty', message: 'No rows were sent.' }, tally));

    const staged: StagedRow[] = [];
    const platforms = new Set<ImportPlatform>();
    const levels = new Set<ImportLevel>();
    for (let i = 0; i < rows.length; i++) {
      const c = checkRow(rows[i], i, tx.tenant);
      if (c.kind === 'currency') {
        return fail(await refuse(ctx, { code: 'currency', message: currencyRefusal(c.currency, tx.tenant.currency, ` (row ${i})`) }, tally));
      }
      if (c.kind === 'invalid') {
        tally.rejected++;
        problems.push(...c.problems);
      } else {
        staged.push(c.row);
        tally.keys.add(c.row.platform, c.row.level, c.row.platformId, c.row.day);
        platforms.add(c.row.platform);
        levels.add(c.row.level);
      }
    }
    tally.problemCount = problems.length;
    tally.problems = problems.slice(0, MAX_PROBLEMS).map(asRowProblem);
    tally.staged = staged.length;
    ctx.platform = platforms.size === 1 ? [...platforms][0]! : null;
    ctx.level = levels.size === 1 ? [...levels][0]! : null;

    const prefix = tx.linePrefix;
    const copy = tx.copyStream();
    await pipeline(
      Readable.from(
        (function* () {
          let out = '';
          for (const r of staged) {
            out += copyLine(prefix, r);
            if (out.length >= 256 * 1024) {
              yield out;
              out = '';
            }
          }
          if (out) yield out;
        })(),
      ),
      copy,
    );
    if (copy.rowCount !== staged.length) throw new Error(`import ${tx.runId}: ${staged.length} rows sent, ${copy.rowCount} copied`);

    const s = await settle(ctx, tally, { keyColumn: null, listKeys: true, dupLimit: rows.length });
    if (!s.ok) return fail(s);

    const dupRows = new Set(s.duplicates.map((p) => p.row));
    const byKey = new Map<string, number>();
    for (const r of staged) if (!dupRows.has(r.rowNo)) byKey.set(rowKey(r.platform, r.level, r.platformId, r.day), r.rowNo);
    const inserted: number[] = [];
    const updated: number[] = [];
    for (const k of s.keys ?? []) {
      const i = byKey.get(k.key);
      if (i === undefined) continue;
      (k.inserted ? inserted : updated).push(i);
      byKey.delete(k.key);
    }
    const unchanged = [...byKey.values()];
    const all = [...problems, ...s.duplicates.map(asRowsProblem)].sort((a, b) => a.index - b.index);
    return {
      ok: true,
      refusal: null,
      counts: s.counts,
      problems: all.slice(0, MAX_PROBLEMS),
      problemCount: s.problemCount,
      rejected: rejectedList(all),
      runId: s.runId!,
      changedDays: s.changedDays,
      inserted: inserted.sort((a, b) => a - b),
      updated: updated.sort((a, b) => a - b),
      unchanged: unchanged.sort((a, b) => a - b),
    };
  } catch (err) {
    await recordFailure(ctx, tally, 'The import failed on the server: nothing was stored.');
    throw err;
  }
}

function rejectedList(problems: RowsProblem[]): { index: number; reasons: string[] }[] {
  const by = new Map<number, string[]>();
  for (const p of problems) {
    const l = by.get(p.index);
    if (l) l.push(p.message);
    else by.set(p.index, [p.message]);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([index, reasons]) => ({ index, reasons }));
}

