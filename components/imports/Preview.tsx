'use client';
// What a dry run of the whole file found: the format, what the import would do
// (rows inserted, updated, unchanged, left out), every problem it lists with
// its row and column, and the first rows as they will be stored.
import { DataTable, type DataColumn, type DataRow } from '@/components/tables/DataTable';
import type { NumberStyle } from '@/lib/format/number';
import { formatNumber } from '@/lib/format/number';
import type { ImportCounts, ImportResult, MetricRow, RowProblem } from '@/lib/ingest/types';
import { delimiterLabel, encodingLabel, importPlatformLabel, levelLabel } from './labels';
import styles from './imports.module.css';

/** A dry run's result: its previewRows are the first rows as they will be stored. */
export type PreviewResult = ImportResult;

const LANGUAGE_LABEL: Record<'en' | 'fr' | 'de', string> = { en: 'English', fr: 'French', de: 'German' };

/** Problems open by default up to this many; more stay folded behind their count. */
const OPEN_PROBLEMS = 50;

const PROBLEM_COLUMNS: DataColumn[] = [
  { key: 'row', header: 'Row', kind: 'number', decimals: 0 },
  { key: 'column', header: 'Column' },
  { key: 'message', header: 'Problem' },
];

const ROW_COLUMNS: DataColumn[] = [
  { key: 'day', header: 'Day', sortAs: 'text' },
  { key: 'name', header: 'Name', noteKey: 'platformId', noteBlock: true },
  { key: 'campaign', header: 'Campaign', noteKey: 'campaignId', noteBlock: true },
  { key: 'spend', header: 'Spend', kind: 'money' },
  { key: 'impressions', header: 'Impressions', kind: 'number', decimals: 0 },
  { key: 'clicks', header: 'Clicks', kind: 'number', decimals: 0 },
  { key: 'conversions', header: 'Conversions', kind: 'number' },
  { key: 'conversionValue', header: 'Conversion value', kind: 'money' },
];

export function problemRows(problems: RowProblem[]): DataRow[] {
  return problems.map((p, i) => ({ id: `${p.row}-${i}`, row: p.row, column: p.column ?? 'whole row', message: p.message }));
}

export function previewRows(rows: MetricRow[]): DataRow[] {
  return rows.map((r, i) => ({
    id: String(i),
    day: r.day,
    name: r.entityName ?? '—',
    platformId: r.platformId,
    campaign: r.level === 'adset' ? (r.campaignName ?? '—') : '(this campaign)',
    campaignId: r.level === 'adset' ? r.campaignId : null,
    spend: r.spend,
    impressions: r.impressions,
    clicks: r.clicks,
    conversions: r.conversions,
    conversionValue: r.conversionValue,
  }));
}

export function CountList({ counts, locale, dryRun }: { counts: ImportCounts; locale: string; dryRun: boolean }) {
  const n = (v: number) => formatNumber(v, { locale });
  const items: [string, number, string][] = [
    [dryRun ? 'would be inserted' : 'inserted', counts.inserted, 'new rows'],
    [dryRun ? 'would be updated' : 'updated', counts.updated, 'stored rows whose figures change'],
    ['unchanged', counts.unchanged, 'identical to what is stored'],
    [dryRun ? 'would be left out' : 'rejected', counts.rejected, 'rows with a problem'],
    ['skipped', counts.skipped, 'totals and blank lines'],
  ];
  return (
    <ul className={styles.counts} aria-label="Rows">
      <li className={styles.count}>
        <strong>{n(counts.read)}</strong> rows read
      </li>
      {items.map(([label, value, hint]) => (
        <li key={label} className={styles.count} title={hint}>
          <strong>{n(value)}</strong> {label}
        </li>
      ))}
    </ul>
  );
}

export function ProblemList({ result, style }: { result: ImportResult; style: NumberStyle }) {
  const locale = style.locale;
  if (result.problemCount === 0) return null;
  const listed = result.problems.length;
  const n = (v: number) => formatNumber(v, { locale });
  return (
    <details className={styles.problems} open={result.problemCount <= OPEN_PROBLEMS}>
      <summary>
        {n(result.problemCount)} {result.problemCount === 1 ? 'problem' : 'problems'}
        {listed < result.problemCount ? ` (the first ${n(listed)} are listed)` : ''}
      </summary>
      <p className="muted small">
        Row numbers count the file&apos;s lines as a spreadsheet shows them (the header is row 1, or row 3 in a Google Ads report after its two title lines). Correct the file and choose it again, change the
        column mapping, or tick &ldquo;Skip the listed rows&rdquo; to import the rest.
      </p>
      <DataTable
        caption="Problems found in the file"
        columns={PROBLEM_COLUMNS}
        rows={problemRows(result.problems)}
        numberStyle={style}
        search={{ label: 'Find a problem', keys: ['column', 'message'], placeholder: 'column or word' }}
        pagination={{ pageSizes: [25, 100, 500] }}
        sorting={{ mode: 'client', initial: { key: 'row' } }}
      />
    </details>
  );
}

export function Preview({ result, style, fileName }: { result: PreviewResult; style: NumberStyle; fileName: string }) {
  const f = result.format;
  const rows = result.previewRows ?? [];
  return (
    <section className="card" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview of {fileName}</h2>
      <p className="muted small">A dry run of the whole file: nothing is stored until you import.</p>
      {result.refusal ? (
        <p className="notice notice-error" role="alert">
          {result.refusal.message}
        </p>
      ) : null}
      {f ? (
        <dl className={`details ${styles.format}`}>
          <dt>Platform</dt>
          <dd>{f.platform ? importPlatformLabel(f.platform) : 'Not recognised'}</dd>
          <dt>Format</dt>
          <dd>
            <code>{f.format}</code>
            {f.preambleLines > 0 ? ` (${f.preambleLines} line${f.preambleLines === 1 ? '' : 's'} before the header)` : ''}
          </dd>
          <dt>Level</dt>
          <dd>{levelLabel(f.level)}</dd>
          <dt>Delimiter</dt>
          <dd>{delimiterLabel(f.delimiter)}</dd>
          <dt>Encoding</dt>
          <dd>{encodingLabel(f.encoding)}</dd>
          <dt>Currency</dt>
          <dd>{f.currency ?? `not stated in the file (the tenant's ${style.currency} is assumed)`}</dd>
          {f.numberStyle ? (
            <>
              <dt>Numbers</dt>
              <dd>{f.numberStyle === 'comma' ? 'decimal comma (1 234,56)' : 'decimal point (1,234.56)'}</dd>
            </>
          ) : null}
          {f.dateOrder ? (
            <>
              <dt>Days</dt>
              <dd>{f.dateOrder === 'dmy' ? 'day first (31/01/2026)' : 'month first (1/31/2026)'}</dd>
            </>
          ) : null}
          {f.language ? (
            <>
              <dt>Headers</dt>
              <dd>{LANGUAGE_LABEL[f.language]}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      <CountList counts={result.counts} locale={style.locale} dryRun />
      <ProblemList result={result} style={style} />
      {rows.length > 0 ? (
        <div className={styles.rows}>
          <h3>
            The first {rows.length} {rows.length === 1 ? 'row' : 'rows'} as they will be stored
          </h3>
          <DataTable caption="The first rows as they will be stored" columns={ROW_COLUMNS} rows={previewRows(rows)} numberStyle={style} />
        </div>
      ) : null}
    </section>
  );
}
