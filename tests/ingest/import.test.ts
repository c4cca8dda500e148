// importCsv against the database, one fresh tenant per test: each platform's
// export round-trips (the stored sums per day are compared with sums the test
// works out from the rows it wrote), a repeat changes nothing (counts,
// updated_at, row versions, rollups, the loop's ledger), a restatement changes
// only its rows, planted errors are listed by row and column and refuse the
// file unless skipInvalid, other currencies are refused, a dry run stores
// nothing, the history and the audit trail record every run, and rows land
// only in the caller's tenant.
import { describe, expect, it } from 'vitest';
import { listImportRuns } from '../../lib/ingest/history';
import { loadMapping } from '../../lib/ingest/mapping';
import type { ImportProgress } from '../../lib/ingest/types';
import { appKysely, rolledBackAsApp } from '../helpers/app-db';
import { appPool, createTenant, ownerPool } from '../helpers/db';
import {
  addDays,
  bytesOf,
  csv,
  expectedByDay,
  googleExport,
  linkedinExport,
  makeRows,
  metaExport,
  rollupRows,
  storedByDay,
  storedRows,
  tenantYesterday,
  tiktokExport,
  wholeConversions,
  type TruthRow,
} from './fixtures';
import { footprint, importBytes, ownerRows, ownerValue } from './helpers';

const owner = ownerPool();
const app = appPool();

async function fresh(label: string, currency = 'EUR'): Promise<{ tenant: string; last: string }> {
  const tenant = await createTenant(owner, `Imports: ${label}`, currency);
  return { tenant, last: await tenantYesterday(owner, tenant) };
}

describe('each platform export round-trips', () => {
  const cases: {
    name: string;
    make: (last: string) => { rows: TruthRow[]; bytes: Buffer; expect: TruthRow[]; skipped: number };
    format: string;
    level: 'campaign' | 'adset';
    chunk?: number;
  }[] = [
    {
      name: 'Meta, English, campaigns',
      format: 'meta',
      level: 'campaign',
      make: (last) => {
        const rows = makeRows({ campaigns: 6, days: 9, lastDay: last, seed: 11 });
        return { rows, bytes: bytesOf(metaExport(rows)), expect: rows, skipped: 1 };
      },
    },
    {
      name: 'Meta, English, ad sets (their campaign id is the parent)',
      format: 'meta',
      level: 'adset',
      make: (last) => {
        const rows = makeRows({ campaigns: 3, adsets: 3, days: 5, lastDay: last, seed: 12, trickyNames: true });
        return { rows, bytes: bytesOf(metaExport(rows, { numbers: 'en' })), expect: rows, skipped: 1 };
      },
    },
    {
      name: 'Meta, French: BOM, semicolons, 1 234,56 (narrow no-break spaces), dd/mm/yyyy, names with ; and "',
      format: 'meta-fr',
      level: 'campaign',
      make: (last) => {
        const rows = makeRows({ campaigns: 5, days: 8, lastDay: last, seed: 13, trickyNames: true, fractional: true });
        return { rows, bytes: bytesOf(metaExport(rows, { lang: 'fr', numbers: 'fr' }), 'utf-8-bom'), expect: rows, skipped: 1 };
      },
      chunk: 5,
    },
    {
      name: 'Google Ads, English: preamble, Total rows, "--", fractional conversions, CRLF',
      format: 'google',
      level: 'campaign',
      make: (last) => {
        const rows = makeRows({ campaigns: 4, days: 10, lastDay: last, seed: 14, idDigits: 10, fractional: true });
        return { rows, bytes: bytesOf(googleExport(rows)), expect: rows, skipped: 2 };
      },
    },
    {
      name: 'Google Ads, German, ad groups: 1.234,56',
      format: 'google-de',
      level: 'adset',
      make: (last) => {
        const rows = makeRows({ campaigns: 2, adsets: 3, days: 6, lastDay: last, seed: 15, idDigits: 10, fractional: true });
        return { rows, bytes: bytesOf(googleExport(rows, { lang: 'de' })), expect: rows, skipped: 2 };
      },
    },
    {
      name: 'Google Ads "Excel CSV": tab-separated UTF-16 LE, read in 7-byte pieces',
      format: 'google-utf16',
      level: 'campaign',
      make: (last) => {
        const rows = makeRows({ campaigns: 3, days: 7, lastDay: last, seed: 16, idDigits: 10, trickyNames: true });
        return { rows, bytes: bytesOf(googleExport(rows, { tabs: true }), 'utf-16le'), expect: rows, skipped: 2 };
      },
      chunk: 7,
    },
    {
      name: 'Google Ads "Excel CSV", UTF-16 BE',
      format: 'google-utf16',
      level: 'campaign',
      make: (last) => {
        const rows = makeRows({ campaigns: 2, days: 4, lastDay: last, seed: 17, idDigits: 10 });
        return { rows, bytes: bytesOf(googleExport(rows, { tabs: true }), 'utf-16be'), expect: rows, skipped: 2 };
      },
      chunk: 3,
    },
    {
      name: 'TikTok: By Day, Clicks (destination), a "Total of" row',
      format: 'tiktok',
      level: 'campaign',
      make: (last) => {
        const rows = wholeConversions(makeRows({ campaigns: 4, days: 6, lastDay: last, seed: 18, idDigits: 19 }));
        return { rows, bytes: bytesOf(tiktokExport(rows)), expect: rows, skipped: 1 };
      },
    },
    {
      name: 'LinkedIn: M/D/YYYY, Total Spent',
      format: 'linkedin',
      level: 'campaign',
      make: (last) => {
        const rows = wholeConversions(makeRows({ campaigns: 3, days: 15, lastDay: last, seed: 19, idDigits: 9 }));
        return { rows, bytes: bytesOf(linkedinExport(rows)), expect: rows.map((r) => ({ ...r, valueCents: 0 })), skipped: 0 };
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { tenant, last } = await fresh(c.name);
      const { rows, bytes, expect: truth, skipped } = c.make(last);
      const r = await importBytes(app, bytes, { tenantId: tenant }, { chunk: c.chunk });
      expect(r.refusal).toBeNull();
      expect(r.ok).toBe(true);
      expect(r.format).toMatchObject({ format: c.format, level: c.level });
      expect(r.counts).toEqual({ read: rows.length, inserted: rows.length, updated: 0, unchanged: 0, rejected: 0, skipped });
      expect(r.problemCount).toBe(0);
      const days = rows.map((x) => x.day).sort();
      expect(r.changedDays).toEqual({ from: days[0], to: days[days.length - 1] });
      // Sums per day, worked out from the rows the test wrote.
      expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(truth));
      // Ids, names and parents as the file has them.
      const stored = await storedRows(owner, tenant);
      const first = rows[0]!;
      const row = stored.find((s) => s.platform_id === (first.adsetId ?? first.campaignId) && s.day === first.day)!;
      expect(row).toMatchObject({
        level: c.level,
        campaign_id: first.campaignId,
        campaign_name: first.campaignName,
        entity_name: first.adsetName ?? first.campaignName,
      });
    });
  }
});

describe('a repeat import changes nothing; a restatement changes only its rows', () => {
  it('the same file twice: counts unchanged, updated_at and row versions untouched, rollups untouched, the ledger sees nothing new', async () => {
    const { tenant, last } = await fresh('repeat');
    const rows = makeRows({ campaigns: 5, adsets: 2, days: 10, lastDay: last, seed: 21 });
    const bytes = bytesOf(metaExport(rows));
    const first = await importBytes(app, bytes, { tenantId: tenant });
    expect(first.counts.inserted).toBe(rows.length);

    // The loop examines every day it has (the ledger, db/media_buying/095_readiness.sql).
    const todo = await ownerRows<{ platform: string; level: string; day: string; data_loaded_at: string; rows_present: number }>(
      owner, tenant, 'select platform, level, day::text as day, data_loaded_at::text as data_loaded_at, rows_present from ads_engine.days_to_examine($1, $2::date, 30)', [tenant, last]);
    expect(todo.length).toBe(10);
    for (const d of todo) {
      await ownerRows(owner, tenant, 'select ads_engine.mark_examined($1, $2, $3, $4::date, $5::timestamptz, $6, 0)', [tenant, d.platform, d.level, d.day, d.data_loaded_at, d.rows_present]);
    }

    const before = { rows: await storedRows(owner, tenant), rollups: await rollupRows(owner, tenant) };
    const second = await importBytes(app, bytes, { tenantId: tenant });
    expect(second.ok).toBe(true);
    expect(second.counts).toEqual({ read: rows.length, inserted: 0, updated: 0, unchanged: rows.length, rejected: 0, skipped: 1 });
    expect(second.changedDays).toBeNull();
    expect(await storedRows(owner, tenant)).toEqual(before.rows);
    expect(await rollupRows(owner, tenant)).toEqual(before.rollups);
    expect(await ownerValue(owner, tenant, 'select count(*)::int from ads_engine.days_to_examine($1, $2::date, 30)', [tenant, last])).toBe(0);

    // A restatement of two rows (late conversions): those rows only, their updated_at only, and the ledger sees their days again.
    const restated = rows.map((r, i) => (i === 3 || i === 17 ? { ...r, conversions100: r.conversions100 + 300, valueCents: r.valueCents + 4_500 } : r));
    const third = await importBytes(app, bytesOf(metaExport(restated)), { tenantId: tenant });
    expect(third.counts).toMatchObject({ inserted: 0, updated: 2, unchanged: rows.length - 2 });
    const changedDays = [rows[3]!.day, rows[17]!.day].sort();
    expect(third.changedDays).toEqual({ from: changedDays[0], to: changedDays[1] });
    const after = await storedRows(owner, tenant);
    const changed = after.filter((a, i) => a.updated_at !== before.rows[i]!.updated_at);
    expect(changed.map((x) => [x.platform_id, x.day]).sort()).toEqual(
      [[rows[3]!.adsetId, rows[3]!.day], [rows[17]!.adsetId, rows[17]!.day]].sort(),
    );
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(restated));
    const again = await ownerRows<{ day: string }>(owner, tenant, 'select day::text as day from ads_engine.days_to_examine($1, $2::date, 30) order by day', [tenant, last]);
    expect(again.map((x) => x.day)).toEqual([...new Set(changedDays)]);
    // The rollups follow exactly (their deltas), against an independent sum.
    const daily = await ownerRows<{ day: string; spend: string; conversions: string }>(
      owner, tenant, "select day::text as day, spend::text as spend, conversions::text as conversions from ads_engine.metrics_platform_daily where tenant_id = $1 and level = 'adset' order by day", [tenant]);
    const want = expectedByDay(restated);
    expect(Object.fromEntries(daily.map((d) => [d.day, [d.spend, d.conversions]]))).toEqual(
      Object.fromEntries(Object.entries(want).map(([d, s]) => [d, [s.spend, s.conversions]])),
    );
  });

  it('two imports of the same file at once: the writes take turns, one inserts, the other finds every row unchanged', async () => {
    const { tenant, last } = await fresh('concurrent');
    const rows = makeRows({ campaigns: 20, adsets: 2, days: 30, lastDay: last, seed: 23 });
    const bytes = bytesOf(metaExport(rows));
    const [a, b] = await Promise.all([importBytes(app, bytes, { tenantId: tenant }), importBytes(app, bytes, { tenantId: tenant })]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    const counts = [a.counts, b.counts].sort((x, y) => y.inserted - x.inserted);
    expect(counts[0]).toMatchObject({ inserted: rows.length, unchanged: 0 });
    expect(counts[1]).toMatchObject({ inserted: 0, updated: 0, unchanged: rows.length });
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(rows));
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: rows.length, staging: 0, succeeded: 2 });
  });

  it('new days and restated days in one large file: new keys inserted, changed rows updated, the rest untouched (the hashed plans)', async () => {
    const { tenant, last } = await fresh('mixed');
    // 7,200 rows: over the size from which the statements hash (5,000).
    const all = makeRows({ campaigns: 30, adsets: 2, days: 150, lastDay: last, seed: 24 });
    const firstDays = new Set([...new Set(all.map((r) => r.day))].sort().slice(0, 120));
    const first = all.filter((r) => firstDays.has(r.day));
    const a = await importBytes(app, bytesOf(metaExport(first)), { tenantId: tenant });
    expect(a.counts).toMatchObject({ inserted: first.length, updated: 0, unchanged: 0 });
    const before = await storedRows(owner, tenant);
    // The second file: the last 60 days of the 150, of which the first 30 are stored, every 7th of its rows restated.
    const secondDays = [...new Set(all.map((r) => r.day))].sort().slice(90);
    const second = all.filter((r) => secondDays.includes(r.day)).map((r, i) => (i % 7 === 0 ? { ...r, spendCents: r.spendCents + 101 } : r));
    const restated = second.filter((r, i) => i % 7 === 0 && firstDays.has(r.day));
    const fresh_ = second.filter((r) => !firstDays.has(r.day));
    const b = await importBytes(app, bytesOf(metaExport(second)), { tenantId: tenant });
    expect(b.counts).toEqual({ read: second.length, inserted: fresh_.length, updated: restated.length, unchanged: second.length - fresh_.length - restated.length, rejected: 0, skipped: 1 });
    const written = [...restated, ...fresh_].map((r) => r.day).sort();
    expect(b.changedDays).toEqual({ from: written[0], to: written.at(-1) });
    const merged = [...all.filter((r) => firstDays.has(r.day) && !secondDays.includes(r.day)), ...second];
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(merged));
    // Only the restated rows got a new version.
    const after = new Map((await storedRows(owner, tenant)).map((x) => [`${x.platform_id} ${x.day}`, x.xmin]));
    const changed = before.filter((x) => after.get(`${x.platform_id} ${x.day}`) !== x.xmin).map((x) => `${x.platform_id} ${x.day}`).sort();
    expect(changed).toEqual(restated.map((r) => `${r.adsetId} ${r.day}`).sort());
  });

  it('skipInvalid with a key twice on the last day: both rows left out, and the days written end before it', async () => {
    const { tenant, last } = await fresh('duplicate edge');
    const rows = makeRows({ campaigns: 2, days: 4, lastDay: last, seed: 25 });
    const lastDayRows = rows.filter((r) => r.day === last);
    // The file's only rows of its last day are one campaign's, twice.
    const file = [...rows.filter((r) => r.day !== last), lastDayRows[0]!, lastDayRows[0]!];
    const r = await importBytes(app, bytesOf(metaExport(file)), { tenantId: tenant, skipInvalid: true });
    expect(r.counts).toMatchObject({ read: file.length, inserted: file.length - 2, rejected: 2 });
    expect(r.changedDays).toEqual({ from: addDays(last, -3), to: addDays(last, -1) });
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/also on row/), expect.stringMatching(/also on row/)]);
  });

  it('a file without names keeps the stored names', async () => {
    const { tenant, last } = await fresh('names kept');
    const rows = makeRows({ campaigns: 2, days: 3, lastDay: last, seed: 22 });
    await importBytes(app, bytesOf(metaExport(rows)), { tenantId: tenant });
    const before = await storedRows(owner, tenant);
    const noNames = csv([
      ['Day', 'Campaign ID', 'Amount spent (EUR)', 'Impressions', 'Link clicks', 'Results', 'Purchases conversion value'],
      ...rows.map((r) => [r.day, r.campaignId, (r.spendCents / 100).toFixed(2), String(r.impressions), String(r.clicks), (r.conversions100 / 100).toFixed(2), (r.valueCents / 100).toFixed(2)]),
    ]);
    const r = await importBytes(app, bytesOf(noNames), { tenantId: tenant });
    expect(r.counts).toMatchObject({ inserted: 0, updated: 0, unchanged: rows.length });
    expect(await storedRows(owner, tenant)).toEqual(before);
  });
});

describe('validation by row and column', () => {
  /** A Meta export with problems planted on known rows: row 1 is the header, row 2 the totals, data from row 3. */
  async function planted(label: string) {
    const { tenant, last } = await fresh(label);
    const rows = makeRows({ campaigns: 4, days: 5, lastDay: last, seed: 31 });
    const lines = metaExport(rows).split('\n');
    // Columns: 0 starts, 1 ends, 2 Day, 3 name, 4 id, 5 spend, 6 impressions, 7 link clicks, 8 results, 9 purchases, 10 value.
    const edit = (row: number, col: number, v: string) => {
      const cells = lines[row - 1]!.split(',');
      cells[col] = v;
      lines[row - 1] = cells.join(',');
    };
    const tomorrow = addDays(last, 2);
    edit(3, 2, '31/02/2024'); // bad date
    edit(4, 5, '-12.50'); // negative spend
    edit(5, 6, 'lots'); // text in a number
    edit(6, 4, '1.20253E+17'); // an id a spreadsheet rounded
    edit(7, 3, 'Bad\u0007name'); // a control character
    edit(8, 2, tomorrow); // a day to come
    edit(8, 0, tomorrow);
    edit(8, 1, tomorrow);
    edit(9, 6, '9223372036854775808'); // beyond bigint
    edit(10, 5, '1000000000000.00'); // beyond numeric(14,2)
    lines[11 - 1] = lines[11 - 1]!.split(',').slice(0, 5).join(','); // cut short
    lines[12 - 1] = lines[13 - 1]!; // row 12 repeats row 13: both are problems
    const bytes = bytesOf(lines.join('\n'));
    const bad = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    // What the good rows sum to: data row k of the file is rows[k - 3].
    const good = rows.filter((_, i) => !bad.has(i + 3));
    return { tenant, rows, bytes, good, tomorrow };
  }

  it('every problem is listed with its row (as a spreadsheet numbers it) and column; the file imports nothing', async () => {
    const { tenant, rows, bytes, tomorrow } = await planted('planted errors');
    const r = await importBytes(app, bytes, { tenantId: tenant });
    expect(r.ok).toBe(false);
    expect(r.refusal).toMatchObject({ code: 'invalid_rows', message: expect.stringMatching(/^11 rows of 20 rows have problems: nothing was imported/) });
    expect(r.counts).toEqual({ read: rows.length, inserted: 0, updated: 0, unchanged: 0, rejected: 11, skipped: 1 });
    const at = (row: number) => r.problems.filter((p) => p.row === row).map((p) => [p.column, p.message]);
    expect(at(3)).toEqual([['Day', expect.stringMatching(/not a calendar day/)]]);
    expect(at(4)).toEqual([['Amount spent (EUR)', expect.stringMatching(/negative/)]]);
    expect(at(5)).toEqual([['Impressions', expect.stringMatching(/“lots” is not a number/)]]);
    expect(at(6)).toEqual([['Campaign ID', expect.stringMatching(/1\.20253E\+17.*rounded number.*cannot be recovered/)]]);
    expect(at(7)).toEqual([['Campaign name', expect.stringMatching(/control character/)]]);
    expect(at(8)).toEqual([['Day', expect.stringContaining(`${tomorrow} is after today`)]]);
    expect(at(9)).toEqual([['Impressions', expect.stringMatching(/too large/)]]);
    expect(at(10)).toEqual([['Amount spent (EUR)', expect.stringMatching(/too large/)]]);
    expect(at(11)).toEqual([[null, expect.stringMatching(/cut short/)]]);
    expect(at(12)).toEqual([['Campaign ID', expect.stringMatching(/also on row 13/)]]);
    expect(at(13)).toEqual([['Campaign ID', expect.stringMatching(/also on row 12/)]]);
    expect(r.problemCount).toBe(11);
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, daily: 0, weekly: 0, staging: 0, succeeded: 0, refused: 1, audit: 0 });
    // The refusal is in the history, with its problems.
    const { db } = appKysely();
    const runs = await rolledBackAsApp(db, tenant, (trx) => listImportRuns(trx, tenant, { limit: 5 }));
    expect(runs.total).toBe(1);
    expect(runs.runs[0]).toMatchObject({ status: 'refused', refusalCode: 'invalid_rows', problemCount: 11, fileName: 'export.csv', platform: 'meta', format: 'meta', source: 'cli' });
    expect(runs.runs[0]!.problems[0]).toMatchObject({ row: 3, column: 'Day' });
  });

  it('skipInvalid: the listed rows are left out and counted rejected, the others stored', async () => {
    const { tenant, rows, bytes, good } = await planted('skip invalid');
    const r = await importBytes(app, bytes, { tenantId: tenant, skipInvalid: true });
    expect(r.ok).toBe(true);
    expect(r.counts).toEqual({ read: rows.length, inserted: good.length, updated: 0, unchanged: 0, rejected: 11, skipped: 1 });
    expect(r.problemCount).toBe(11);
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(good));
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: good.length, staging: 0, succeeded: 1, refused: 0, audit: 1 });
  });

  it('a file whose number style is not known: an ambiguous 1,234 is a problem, not a guess', async () => {
    const { tenant, last } = await fresh('ambiguous numbers');
    const text = csv([
      ['date', 'id', 'cost', 'imps', 'clk', 'conv'],
      [last, '1', '1,234', '100', '1', '0'],
      [addDays(last, -1), '1', '17', '100', '1', '0'],
    ]);
    const mapping = { day: 'date', campaign_id: 'id', spend: 'cost', impressions: 'imps', clicks: 'clk', conversions: 'conv' };
    const r = await importBytes(app, bytesOf(text), { tenantId: tenant, platform: 'google', mapping });
    expect(r.refusal?.code).toBe('invalid_rows');
    expect(r.problems).toEqual([{ row: 2, column: 'cost', message: expect.stringMatching(/can be read as 1234 or 1\.234/) }]);
    // The same file with one telling value first: the style holds for every cell after it.
    const told = csv([
      ['date', 'id', 'cost', 'imps', 'clk', 'conv'],
      [addDays(last, -2), '1', '3.50', '100', '1', '0'],
      [last, '1', '1,234', '100', '1', '0'],
    ]);
    const ok = await importBytes(app, bytesOf(told), { tenantId: tenant, platform: 'google', mapping });
    expect(ok.ok).toBe(true);
    expect(await ownerValue(owner, tenant, 'select spend::text from ads.metrics_daily where tenant_id = $1 and day = $2', [tenant, last])).toBe('1234.00');
  });

  it('clicks above impressions are accepted (Meta counts clicks without a counted impression)', async () => {
    const { tenant, last } = await fresh('clicks above impressions');
    const rows = makeRows({ campaigns: 1, days: 2, lastDay: last, seed: 32 }).map((r) => ({ ...r, impressions: 10, clicks: 25 }));
    const r = await importBytes(app, bytesOf(metaExport(rows, { clicksAll: true })), { tenantId: tenant });
    expect(r.ok).toBe(true);
    expect(await storedByDay(owner, tenant)).toEqual(expectedByDay(rows));
  });

  it('an unclosed quote, a file without data rows, an empty file: refused, nothing stored', async () => {
    const { tenant, last } = await fresh('unreadable');
    const rows = makeRows({ campaigns: 1, days: 2, lastDay: last });
    // The header, Meta's totals row and the two rows come first: the broken line is row 5.
    const broken = `${metaExport(rows)}${last},${last},${last},"never closed,1,1,1,1,1,1,1\n`;
    const r1 = await importBytes(app, bytesOf(broken), { tenantId: tenant });
    expect(r1.refusal).toMatchObject({ code: 'unreadable', message: `The file is not valid CSV: a quote opened on row ${rows.length + 3} is never closed.` });
    const r2 = await importBytes(app, bytesOf(metaExport([])), { tenantId: tenant });
    expect(r2.refusal?.code).toBe('empty');
    const r3 = await importBytes(app, Buffer.alloc(0), { tenantId: tenant });
    expect(r3.refusal?.code).toBe('empty');
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, staging: 0, succeeded: 0, refused: 3 });
  });
});

describe('currency', () => {
  it('an export in another currency than the tenant’s is refused, from a header or from a column', async () => {
    const { tenant, last } = await fresh('currency', 'EUR');
    const rows = makeRows({ campaigns: 2, days: 3, lastDay: last, idDigits: 10 });
    const r1 = await importBytes(app, bytesOf(metaExport(rows, { currency: 'USD' })), { tenantId: tenant });
    expect(r1.refusal).toMatchObject({ code: 'currency', message: expect.stringMatching(/in USD .*Amount spent \(USD\).*reports in EUR/) });
    const r2 = await importBytes(app, bytesOf(googleExport(rows, { currency: 'GBP' })), { tenantId: tenant });
    expect(r2.refusal).toMatchObject({ code: 'currency', message: expect.stringMatching(/in GBP \(row 4, column “Currency code”\)/) });
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, staging: 0, refused: 2 });
    const usd = await fresh('currency, USD tenant', 'USD');
    const r3 = await importBytes(app, bytesOf(metaExport(rows, { currency: 'USD' })), { tenantId: usd.tenant });
    expect(r3.ok).toBe(true);
  });
});

describe('dry run, progress, mapping', () => {
  it('a dry run does the whole import and rolls it back: real counts, every problem, the first 20 rows as stored; nothing recorded', async () => {
    const { tenant, last } = await fresh('dry run');
    const rows = makeRows({ campaigns: 5, days: 6, lastDay: last, seed: 41 });
    const bytes = bytesOf(metaExport(rows));
    const d = await importBytes(app, bytes, { tenantId: tenant, dryRun: true });
    expect(d.ok).toBe(true);
    expect(d.runId).toBeNull();
    expect(d.counts).toMatchObject({ inserted: rows.length, unchanged: 0 });
    expect(d.previewRows).toHaveLength(20);
    expect(d.previewRows![0]).toEqual({
      platform: 'meta',
      level: 'campaign',
      platformId: rows[0]!.campaignId,
      day: rows[0]!.day,
      entityName: rows[0]!.campaignName,
      campaignId: rows[0]!.campaignId,
      campaignName: rows[0]!.campaignName,
      spend: rows[0]!.spendCents / 100,
      impressions: rows[0]!.impressions,
      clicks: rows[0]!.clicks,
      conversions: rows[0]!.conversions100 / 100,
      conversionValue: rows[0]!.valueCents / 100,
    });
    expect(await footprint(owner, tenant)).toEqual({ metrics: 0, daily: 0, weekly: 0, staging: 0, succeeded: 0, refused: 0, failed: 0, audit: 0 });
    await importBytes(app, bytes, { tenantId: tenant });
    const again = await importBytes(app, bytes, { tenantId: tenant, dryRun: true });
    expect(again.counts).toMatchObject({ inserted: 0, updated: 0, unchanged: rows.length });
    expect((await footprint(owner, tenant)).succeeded).toBe(1);
  });

  it('reports progress: reading (rows and bytes), validating, writing, done', async () => {
    const { tenant, last } = await fresh('progress');
    const rows = makeRows({ campaigns: 40, days: 120, lastDay: last, seed: 42 });
    const bytes = bytesOf(metaExport(rows));
    const seen: ImportProgress[] = [];
    const r = await importBytes(app, bytes, { tenantId: tenant, onProgress: (p) => seen.push(p) }, { chunk: 16 * 1024 });
    expect(r.ok).toBe(true);
    const phases = seen.map((p) => p.phase).filter((p, i, a) => p !== a[i - 1]);
    expect(phases).toEqual(['reading', 'validating', 'writing', 'done']);
    expect(seen.every((p) => p.bytesTotal === bytes.length)).toBe(true);
    expect(seen.at(-1)!.bytesRead).toBe(bytes.length);
    expect(seen.at(-1)!.rowsRead).toBe(rows.length + 1);
    const reading = seen.filter((p) => p.phase === 'reading').map((p) => p.bytesRead);
    expect(reading).toEqual([...reading].sort((a, b) => a - b));
  });

  it('a mapping for any other file: used, saved for the tenant and platform, remembered next time, not seen by another tenant', async () => {
    const { tenant, last } = await fresh('mapping');
    const other = await fresh('mapping, other tenant');
    const text = csv([
      ['Date', 'Compte', 'Campagne', 'Réf', 'Dépense', 'Vues', 'Clics', 'Ventes', 'CA'],
      [last, 'Acme', 'Soldes', 'c-1', '12,50', '1000', '10', '1', '99,90'],
      [addDays(last, -1), 'Acme', 'Soldes', 'c-1', '7,25', '800', '8', '0', '0'],
    ], ';');
    const mapping = { day: 'Date', campaign_name: 'Campagne', campaign_id: 'Réf', spend: 'Dépense', impressions: 'Vues', clicks: 'Clics', conversions: 'Ventes', conversion_value: 'CA' };
    const refused = await importBytes(app, bytesOf(text), { tenantId: tenant });
    expect(refused.refusal?.code).toBe('unknown_format');
    expect(refused.format?.headers).toEqual(['Date', 'Compte', 'Campagne', 'Réf', 'Dépense', 'Vues', 'Clics', 'Ventes', 'CA']);
    const r = await importBytes(app, bytesOf(text), { tenantId: tenant, platform: 'linkedin', mapping });
    expect(r.ok).toBe(true);
    expect(r.format).toMatchObject({ platform: 'linkedin', format: 'mapped', numberStyle: 'comma' });
    expect(await storedByDay(owner, tenant)).toEqual({
      [addDays(last, -1)]: { rows: 1, spend: '7.25', impressions: '800', clicks: '8', conversions: '0.00', value: '0.00' },
      [last]: { rows: 1, spend: '12.50', impressions: '1000', clicks: '10', conversions: '1.00', value: '99.90' },
    });
    const { db } = appKysely();
    expect(await rolledBackAsApp(db, tenant, (trx) => loadMapping(trx, tenant, 'linkedin'))).toEqual(mapping);
    expect(await rolledBackAsApp(db, other.tenant, (trx) => loadMapping(trx, tenant, 'linkedin'))).toBeNull();
    // The next file of the same shape needs no mapping: the saved one fits.
    const next = await importBytes(app, bytesOf(text), { tenantId: tenant });
    expect(next.ok).toBe(true);
    expect(next.counts).toMatchObject({ unchanged: 2 });
    const elsewhere = await importBytes(app, bytesOf(text), { tenantId: other.tenant });
    expect(elsewhere.refusal?.code).toBe('unknown_format');
  });
});

describe('a mapping that is not one', () => {
  it('refuses the file (recorded), does not throw', async () => {
    const { tenant, last } = await fresh('bad mapping');
    const rows = makeRows({ campaigns: 1, days: 1, lastDay: last });
    const r = await importBytes(app, bytesOf(metaExport(rows)), { tenantId: tenant, platform: 'meta', mapping: { day: 'Day\u0000', campaign_id: 'Campaign ID' } });
    expect(r.refusal).toMatchObject({ code: 'mapping', message: expect.stringContaining('not valid') });
    expect(await footprint(owner, tenant)).toMatchObject({ metrics: 0, refused: 1 });
  });
});

describe('history, audit, tenant isolation', () => {
  it('records who, what and how it went, newest first; an audit row per stored import', async () => {
    const { tenant, last } = await fresh('history');
    const rows = makeRows({ campaigns: 2, days: 2, lastDay: last, idDigits: 10 });
    await importBytes(app, bytesOf(metaExport(rows)), { tenantId: tenant, actorLabel: 'cli: tester@host' }, { fileName: 'first.csv' });
    await importBytes(app, bytesOf(metaExport(rows, { currency: 'USD' })), { tenantId: tenant }, { fileName: 'usd.csv' });
    await importBytes(app, bytesOf(googleExport(rows)), { tenantId: tenant, skipInvalid: true }, { fileName: 'google.csv' });
    const { db } = appKysely();
    const list = await rolledBackAsApp(db, tenant, (trx) => listImportRuns(trx, tenant, { limit: 10 }));
    expect(list.total).toBe(3);
    expect(list.runs.map((r) => [r.fileName, r.status, r.platform])).toEqual([
      ['google.csv', 'succeeded', 'google'],
      ['usd.csv', 'refused', 'meta'],
      ['first.csv', 'succeeded', 'meta'],
    ]);
    const first = list.runs[2]!;
    expect(first).toMatchObject({
      source: 'cli',
      actorLabel: 'cli: tester@host',
      format: 'meta',
      level: 'campaign',
      counts: { read: 4, inserted: 4, updated: 0, unchanged: 0, rejected: 0, skipped: 1 },
      changedDays: { from: addDays(last, -1), to: last },
    });
    expect(first.bytes).toBeGreaterThan(100);
    expect(first.finishedAt.getTime()).toBeGreaterThanOrEqual(first.startedAt.getTime());
    expect(list.runs[1]).toMatchObject({ refusalCode: 'currency', message: expect.stringContaining('USD') });
    const page2 = await rolledBackAsApp(db, tenant, (trx) => listImportRuns(trx, tenant, { limit: 2, offset: 2 }));
    expect(page2.runs.map((r) => r.fileName)).toEqual(['first.csv']);
    expect(page2.total).toBe(3);
    const audit = await ownerRows<{ action: string; entity_type: string; entity_id: string; actor_label: string; after: { counts: { inserted: number } } }>(
      owner, tenant, "select action, entity_type, entity_id, actor_label, after from saas.audit_log where tenant_id = $1 and action = 'metrics.import' order by id", [tenant]);
    expect(audit.map((a) => [a.entity_type, a.entity_id, a.actor_label])).toEqual([
      ['import_run', first.id, 'cli: tester@host'],
      ['import_run', list.runs[0]!.id, null],
    ]);
    expect(audit[0]!.after.counts.inserted).toBe(4);
  });

  it('rows land only in the caller’s tenant; the other tenant sees none of them, and the owner proves they exist', async () => {
    const a = await fresh('isolation A');
    const b = await fresh('isolation B');
    const rows = makeRows({ campaigns: 3, days: 3, lastDay: a.last, seed: 51 });
    const bytes = bytesOf(metaExport(rows));
    await importBytes(app, bytes, { tenantId: a.tenant });
    expect((await footprint(owner, a.tenant)).metrics).toBe(rows.length);
    expect((await footprint(owner, b.tenant)).metrics).toBe(0);
    // The app role in B's transaction sees nothing of A (and nothing of A's history).
    const { db } = appKysely();
    expect(await rolledBackAsApp(db, b.tenant, (trx) => listImportRuns(trx, a.tenant, { limit: 10 }))).toEqual({ runs: [], total: 0 });
    // The same file into B: B's own rows, A's untouched.
    const beforeA = await storedRows(owner, a.tenant);
    const rb = await importBytes(app, bytes, { tenantId: b.tenant });
    expect(rb.counts.inserted).toBe(rows.length);
    expect(await storedRows(owner, a.tenant)).toEqual(beforeA);
    const leftovers = await ownerRows<{ n: number }>(owner, a.tenant, 'select count(*)::int as n from ads_engine.import_staging');
    expect(leftovers[0]!.n).toBe(0);
  });

  it('the app role cannot read, change or empty the staging partition, only COPY into it', async () => {
    const c = await app.connect();
    try {
      await c.query('begin');
      for (const q of ['select 1 from ads_engine.import_staging_load', 'delete from ads_engine.import_staging_load', 'update ads_engine.import_staging_load set row_no = 0']) {
        await c.query('savepoint s');
        await expect(c.query(q)).rejects.toThrow(/permission denied/);
        await c.query('rollback to savepoint s');
      }
      await c.query('rollback');
    } finally {
      c.release();
    }
  });
});
