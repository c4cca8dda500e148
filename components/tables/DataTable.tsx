'use client';
// The one data table of the app, over @tanstack/react-table (v9). A server
// page gives it plain columns and rows (no functions cross the boundary): each
// column says which row field it shows and how (text, code, time, link, or a
// number in the tenant's currency and locale).
// Sorting either happens here on the whole list (sorting.mode 'client'), or,
// for a server-paginated list, lives in the URL (?sort=&dir=) so the server
// orders every page and a sorted view can be shared (sorting.mode 'url').
// Optional, for a whole list in the browser: a search box, select filters,
// pages, a column chooser, a totals row over every row that matches (all
// pages), and a CSV export of exactly what matches, in the columns shown.
import Link from 'next/link';
import { useId, useMemo, useState } from 'react';
import { formatChange, formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { formatDay, formatUtc } from '@/lib/format/time';
import { toCsv, type CsvColumn, type CsvFormat } from '@/lib/performance/csv';
import {
  columnFilteringFeature,
  columnVisibilityFeature,
  createFilteredRowModel,
  createPaginatedRowModel,
  createSortedRowModel,
  globalFilteringFeature,
  rowPaginationFeature,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_basic,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type FilterFn,
  type SortingState,
} from '@tanstack/react-table';
import styles from './DataTable.module.css';

export type CellValue = string | number | boolean | null;
export type DataRow = { id: string } & Record<string, CellValue>;

/** The colour of a badge; its text is always shown, so colour is never the only sign. */
export type BadgeTone = 'best' | 'good' | 'neutral' | 'warn' | 'bad' | 'none';

export type DataColumnKind =
  | 'text'
  | 'code'
  | 'time'
  | 'date'
  | 'link'
  | 'details'
  | 'number'
  | 'money'
  | 'ratio'
  | 'percent'
  | 'delta'
  | 'badge'
  | 'meter';

export interface DataColumn {
  /** The row field shown (and sorted on). */
  key: string;
  header: string;
  /**
   * text (default); code; time (ISO value shown as date+time UTC); date (ISO value, day only); link (to `hrefKey`);
   * details (a long text folded in a <details>, its summary from `labelKey`; the summary alone, as text, when the value is null).
   * Numbers (they need the table's `numberStyle`): number (a count, `decimals`); money (the tenant currency); ratio (2 decimals,
   * ROAS 3.21); percent (a fraction shown as a percent, CTR 0.0123 is 1.23 %); delta (a change already in percent, signed,
   * coloured from the row's `toneKey` field: good / bad / neutral); meter (a fraction as a whole percent with a small bar, pacing).
   * badge: the text in a pill coloured from the row's `toneKey` field (a BadgeTone).
   */
  kind?: DataColumnKind;
  /** A field whose text follows the value, muted (e.g. "(you)"). */
  noteKey?: string;
  /** The note on its own line under the value (e.g. the parent campaign of an ad set). */
  noteBlock?: boolean;
  /** For links: the field holding the URL, and the one holding the accessible name (for details: the summary). */
  hrefKey?: string;
  labelKey?: string;
  /** For delta and badge: the row field holding the tone. */
  toneKey?: string;
  /** For number: decimals shown (default: 1 for a fraction under 100, else 0). */
  decimals?: number;
  /** Header read by screen readers only (e.g. an actions column). */
  hideHeader?: boolean;
  /** A muted second line of the header (e.g. "vs baseline"): part of the column's name, in the CSV header too. */
  headerNote?: string;
  /** Default: true except for links and details. */
  sortable?: boolean;
  /** Sort on another field than the one shown (e.g. a rating on its rank). */
  sortKey?: string;
  /**
   * Character order ('text'), natural order with numbers by value ('natural'), or numeric with missing values last in
   * either direction, largest first on the first click ('number'). Default: number for the number kinds, text for time,
   * date and code; natural otherwise.
   */
  sortAs?: 'text' | 'natural' | 'number';
  /** With a column chooser: false keeps the column always shown. Default true. */
  hideable?: boolean;
  /** Hidden until chosen in the column chooser. */
  hidden?: boolean;
  /** In the CSV export (when shown). Default: true unless the header is hidden (an actions column). */
  exportable?: boolean;
  /** In the CSV export, the note gets its own column with this header, right after this one. */
  noteHeader?: string;
}

export type DataTableSorting =
  | { mode: 'client'; initial?: { key: string; desc?: boolean } }
  | {
      mode: 'url';
      basePath: string;
      /** The other search params to keep (filters); the page resets to 1 on a new order. */
      params: Record<string, string | undefined>;
      sort: string | null;
      dir: 'asc' | 'desc';
    };

/** A select over one column: a row shows when its `field` (default: the column's key) equals the chosen value. */
export interface DataTableFilter {
  /** The column the filter belongs to (a key of `columns`). */
  key: string;
  field?: string;
  label: string;
  /** The choice that shows every row ("All platforms"). */
  allLabel: string;
  options: { value: string; label: string }[];
}

export interface DataTableProps {
  caption: string;
  columns: DataColumn[];
  rows: DataRow[];
  sorting?: DataTableSorting;
  /** The tenant's currency and locale: needed by the number kinds. */
  numberStyle?: NumberStyle;
  /** A search box over these row fields (case-insensitive, any part). */
  search?: { label: string; keys: string[]; placeholder?: string };
  filters?: DataTableFilter[];
  /** Pages in the browser: the sizes offered, and the first one (default: the first offered). */
  pagination?: { pageSizes: number[]; pageSize?: number };
  /** A "Columns" disclosure to show and hide the columns that allow it. */
  columnChooser?: boolean;
  /** A totals row (tfoot) from every row matching the search and filters, on every page; keep it stable (useCallback). */
  footer?: (rows: DataRow[]) => DataRow | null;
  /** An "Export CSV" button: the matching rows in their order (all pages), the columns shown, then the totals row. */
  exportCsv?: { fileName: string; label?: string };
  /** Shown in the body when no row matches (with a "Clear filters" button when a search or filter is set). */
  emptyMessage?: string;
}

const features = tableFeatures({
  rowSortingFeature,
  columnFilteringFeature,
  globalFilteringFeature,
  rowPaginationFeature,
  columnVisibilityFeature,
  filteredRowModel: createFilteredRowModel(),
  sortedRowModel: createSortedRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text, basic: sortFn_basic },
});

type Def = ColumnDef<typeof features, DataRow>;
type RowFilter = FilterFn<typeof features, DataRow>;

const NUMBER_KINDS: ReadonlySet<DataColumnKind> = new Set(['number', 'money', 'ratio', 'percent', 'delta', 'meter']);
const NO_STYLE_ERROR = 'DataTable: a number column needs the numberStyle prop (the tenant currency and locale)';

function isNumberKind(col: DataColumn): boolean {
  return NUMBER_KINDS.has(col.kind ?? 'text');
}

function sortAsOf(col: DataColumn): 'text' | 'natural' | 'number' {
  if (col.sortAs) return col.sortAs;
  if (isNumberKind(col)) return 'number';
  return col.kind === 'time' || col.kind === 'date' || col.kind === 'code' ? 'text' : 'natural';
}

/** The CSV form of a column's values: plain numbers at the precision their kind needs. */
function csvFormatOf(col: DataColumn): CsvFormat {
  switch (col.kind) {
    case 'money':
      return 'money';
    case 'ratio':
    case 'meter':
      return 'ratio';
    case 'percent':
      return 'fraction';
    case 'delta':
      return 'percent';
    case 'number':
      return 'count';
    default:
      return 'text';
  }
}

function headerText(col: DataColumn): string {
  return col.headerNote ? `${col.header} ${col.headerNote}` : col.header;
}

function formatTime(iso: string, kind: 'time' | 'date'): string {
  return kind === 'date' ? formatDay(iso) : formatUtc(iso);
}

const DELTA_CLASS: Readonly<Record<string, string | undefined>> = { good: styles.good, bad: styles.bad, neutral: styles.neutral };
const DELTA_WORDS: Readonly<Record<string, string | undefined>> = { good: ' (better)', bad: ' (worse)' };
const BADGE_CLASS: Readonly<Record<BadgeTone, string | undefined>> = {
  best: styles.badgeBest,
  good: styles.badgeGood,
  neutral: styles.badgeNeutral,
  warn: styles.badgeWarn,
  bad: styles.badgeBad,
  none: styles.badgeNone,
};

function numberOf(value: CellValue): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function needStyle(style: NumberStyle | undefined): NumberStyle {
  if (!style) throw new Error(NO_STYLE_ERROR);
  return style;
}

/** One cell. `plain`: in the totals row, a link column shows its text (there is nothing to link to). */
function CellContent({ col, row, style, plain = false }: { col: DataColumn; row: DataRow; style?: NumberStyle; plain?: boolean }) {
  const value = row[col.key] ?? null;
  const note = col.noteKey ? row[col.noteKey] : null;
  const tone = col.toneKey ? row[col.toneKey] : null;
  let content: React.ReactNode;
  switch (col.kind ?? 'text') {
    case 'code':
      content = value === null ? '—' : <code>{String(value)}</code>;
      break;
    case 'time':
    case 'date':
      content = typeof value === 'string' ? <time dateTime={value}>{formatTime(value, col.kind as 'time' | 'date')}</time> : '—';
      break;
    case 'link': {
      const href = col.hrefKey ? row[col.hrefKey] : null;
      const label = col.labelKey ? row[col.labelKey] : null;
      content =
        typeof href === 'string' && !plain ? (
          <Link href={href} aria-label={typeof label === 'string' ? label : undefined}>
            {String(value ?? '')}
          </Link>
        ) : plain ? (
          String(value ?? '')
        ) : null;
      break;
    }
    case 'details': {
      const summary = col.labelKey ? row[col.labelKey] : null;
      const text = typeof summary === 'string' ? summary : null;
      content =
        value === null || value === '' ? (
          text
        ) : (
          <details className="cell-details">
            <summary>{text ?? 'Show'}</summary>
            <pre>{String(value)}</pre>
          </details>
        );
      break;
    }
    case 'number': {
      const n = numberOf(value);
      const decimals = col.decimals ?? (n !== null && Math.abs(n) < 100 && !Number.isInteger(n) ? 1 : 0);
      content = formatNumber(n, needStyle(style), decimals);
      break;
    }
    case 'money':
      content = formatMoney(numberOf(value), needStyle(style));
      break;
    case 'ratio':
      content = formatNumber(numberOf(value), needStyle(style), 2);
      break;
    case 'percent':
      content = formatPercent(numberOf(value), needStyle(style), 2);
      break;
    case 'delta': {
      const n = numberOf(value);
      const t = typeof tone === 'string' ? tone : 'neutral';
      content =
        n === null ? (
          '—'
        ) : (
          <span className={DELTA_CLASS[t] ?? styles.neutral}>
            {formatChange(n, needStyle(style))}
            {DELTA_WORDS[t] ? <span className="visually-hidden">{DELTA_WORDS[t]}</span> : null}
          </span>
        );
      break;
    }
    case 'meter': {
      const n = numberOf(value);
      content =
        n === null ? (
          '—'
        ) : (
          <span className={styles.meter}>
            {formatPercent(n, needStyle(style), 0)}
            <span className={styles.meterTrack} aria-hidden="true">
              <span className={n > 1 ? styles.meterOver : styles.meterFill} style={{ width: `${Math.max(0, Math.min(n, 1)) * 100}%` }} />
            </span>
          </span>
        );
      break;
    }
    case 'badge':
      content =
        value === null || value === '' ? (
          '—'
        ) : (
          <span className={`${styles.badge} ${BADGE_CLASS[(typeof tone === 'string' ? tone : 'none') as BadgeTone] ?? styles.badgeNone}`}>
            {String(value)}
          </span>
        );
      break;
    default:
      content = value === null || value === '' ? '—' : String(value);
  }
  return (
    <>
      {content}
      {note ? (
        <span className={col.noteBlock ? `muted ${styles.noteBlock}` : 'muted'}>
          {col.noteBlock ? '' : ' '}
          {String(note)}
        </span>
      ) : null}
    </>
  );
}

function sortIndicator(dir: false | 'asc' | 'desc'): string {
  return dir === 'asc' ? ' ▲' : dir === 'desc' ? ' ▼' : '';
}

function urlFor(s: Extract<DataTableSorting, { mode: 'url' }>, key: string, dir: 'asc' | 'desc'): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(s.params)) if (v) q.set(k, v);
  q.set('sort', key);
  q.set('dir', dir);
  return `${s.basePath}?${q.toString()}`;
}

function downloadText(text: string, fileName: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Some browsers start reading the blob after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function HeaderLabel({ col }: { col: DataColumn }) {
  return (
    <>
      {col.header}
      {col.headerNote ? <span className={styles.headerNote}>{col.headerNote}</span> : null}
    </>
  );
}

export function DataTable({
  caption,
  columns,
  rows,
  sorting = { mode: 'client' },
  numberStyle,
  search,
  filters,
  pagination,
  columnChooser = false,
  footer,
  exportCsv,
  emptyMessage,
}: DataTableProps) {
  const uid = useId();
  const byKey = useMemo(() => new Map(columns.map((c) => [c.key, c])), [columns]);
  const filterByKey = useMemo(() => new Map((filters ?? []).map((f) => [f.key, f])), [filters]);

  const defs = useMemo<Def[]>(
    () =>
      columns.map((col) => {
        const sortAs = sortAsOf(col);
        const sortField = col.sortKey ?? col.key;
        const filter = filterByKey.get(col.key);
        const field = filter ? (filter.field ?? filter.key) : null;
        const filterFn: RowFilter | undefined = field ? (row, _id, value) => String(row.original[field] ?? '') === String(value) : undefined;
        return {
          id: col.key,
          // A missing number is undefined, which the sorted model puts last whichever the direction.
          accessorFn: sortAs === 'number' ? (row: DataRow) => row[sortField] ?? undefined : (row: DataRow) => row[sortField] ?? null,
          header: col.header,
          cell: ({ row }) => <CellContent col={col} row={row.original} style={numberStyle} />,
          enableSorting: col.sortable ?? (col.kind !== 'link' && col.kind !== 'details'),
          // ISO times sort as text; numbers by value; mixed text naturally.
          sortFn: sortAs === 'number' ? 'basic' : sortAs === 'text' ? 'text' : 'alphanumeric',
          sortUndefined: 'last',
          ...(sortAs === 'number' ? { sortDescFirst: true } : {}),
          enableHiding: col.hideable ?? true,
          enableColumnFilter: Boolean(filterFn),
          ...(filterFn ? { filterFn } : {}),
        } satisfies Def;
      }),
    [columns, filterByKey, numberStyle],
  );

  // The search matches its fields on the row, not per column: it runs once a row, on the first column.
  const searchKeys = search?.keys;
  const globalFilterFn = useMemo<RowFilter>(
    () => (row, _id, value) => {
      const q = String(value ?? '').trim().toLocaleLowerCase();
      if (!q) return true;
      return (searchKeys ?? []).some((k) => String(row.original[k] ?? '').toLocaleLowerCase().includes(q));
    },
    [searchKeys],
  );
  const firstKey = columns[0]?.key;

  const initial: SortingState =
    sorting.mode === 'client' && sorting.initial ? [{ id: sorting.initial.key, desc: Boolean(sorting.initial.desc) }] : [];
  const [clientSorting, setClientSorting] = useState<SortingState>(initial);
  const urlSorting: SortingState = sorting.mode === 'url' && sorting.sort ? [{ id: sorting.sort, desc: sorting.dir === 'desc' }] : [];

  const [initialState] = useState(() => ({
    pagination: { pageIndex: 0, pageSize: pagination?.pageSize ?? pagination?.pageSizes[0] ?? 25 },
    columnVisibility: Object.fromEntries(columns.filter((c) => c.hidden).map((c) => [c.key, false])),
  }));

  const table = useTable({
    features,
    columns: defs,
    data: rows,
    getRowId: (row) => row.id,
    // Server-sorted lists arrive in order: the table only shows the state.
    manualSorting: sorting.mode === 'url',
    // Without pages the table shows every row it is given.
    manualPagination: !pagination,
    enableSortingRemoval: false,
    initialState,
    state: { sorting: sorting.mode === 'url' ? urlSorting : clientSorting },
    onSortingChange: setClientSorting,
    globalFilterFn,
    getColumnCanGlobalFilter: (column) => Boolean(search) && column.id === firstKey,
  });

  const matching = table.getPrePaginatedRowModel().rows;
  const pageRows = table.getRowModel().rows;
  const visibleColumns = table.getVisibleLeafColumns();
  const visibleCols = visibleColumns.map((c) => byKey.get(c.id)!);
  const totalsRow = useMemo(() => (footer && matching.length > 0 ? footer(matching.map((r) => r.original)) : null), [footer, matching]);

  const globalFilter = typeof table.state.globalFilter === 'string' ? table.state.globalFilter : '';
  const filtering = globalFilter.trim() !== '' || table.state.columnFilters.length > 0;
  const clearFilters = () => {
    table.resetGlobalFilter(true);
    table.resetColumnFilters(true);
  };

  const exportNow = () => {
    if (!exportCsv) return;
    const csvColumns: CsvColumn[] = [];
    for (const col of visibleCols) {
      if (!(col.exportable ?? !col.hideHeader)) continue;
      csvColumns.push({ key: col.key, header: headerText(col), format: csvFormatOf(col) });
      if (col.noteKey && col.noteHeader) csvColumns.push({ key: col.noteKey, header: col.noteHeader, format: 'text' });
    }
    const csvRows = matching.map((r) => r.original);
    const text = toCsv(csvColumns, totalsRow ? [...csvRows, totalsRow] : csvRows);
    const name = /\.csv$/i.test(exportCsv.fileName) ? exportCsv.fileName : `${exportCsv.fileName}.csv`;
    downloadText(text, name, 'text/csv;charset=utf-8');
  };

  const count = (n: number) => (numberStyle ? formatNumber(n, numberStyle) : String(n));
  const { pageIndex, pageSize } = table.state.pagination;
  const first = matching.length === 0 ? 0 : pageIndex * pageSize + 1;
  const last = Math.min(matching.length, (pageIndex + 1) * pageSize);
  const hideableColumns = table.getAllLeafColumns();
  const hasToolbar = Boolean(search || filters?.length || columnChooser || exportCsv);

  return (
    <div className={styles.root}>
      {hasToolbar ? (
        <div className={styles.toolbar}>
          {search ? (
            <div className={`${styles.control} ${styles.search}`}>
              <label htmlFor={`${uid}-search`}>{search.label}</label>
              <input
                id={`${uid}-search`}
                type="search"
                value={globalFilter}
                placeholder={search.placeholder}
                onChange={(e) => table.setGlobalFilter(e.target.value)}
                autoComplete="off"
              />
            </div>
          ) : null}
          {(filters ?? []).map((f) => {
            const column = table.getColumn(f.key);
            const value = column?.getFilterValue();
            return (
              <div key={f.key} className={styles.control}>
                <label htmlFor={`${uid}-filter-${f.key}`}>{f.label}</label>
                <select
                  id={`${uid}-filter-${f.key}`}
                  value={typeof value === 'string' ? value : ''}
                  onChange={(e) => column?.setFilterValue(e.target.value === '' ? undefined : e.target.value)}
                >
                  <option value="">{f.allLabel}</option>
                  {f.options.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </select>
              </div>
            );
          })}
          {columnChooser ? (
            <details className={styles.columns}>
              <summary className="button button-secondary button-small">Columns</summary>
              <fieldset className={styles.columnList}>
                <legend className="visually-hidden">Columns shown</legend>
                {hideableColumns.map((column) => {
                  const col = byKey.get(column.id)!;
                  return (
                    <label key={column.id} className={styles.check}>
                      <input
                        type="checkbox"
                        checked={column.getIsVisible()}
                        disabled={!column.getCanHide()}
                        onChange={() => column.toggleVisibility()}
                      />
                      {col.header}
                    </label>
                  );
                })}
              </fieldset>
            </details>
          ) : null}
          {exportCsv ? (
            <button type="button" className={`button button-secondary button-small ${styles.export}`} onClick={exportNow} disabled={matching.length === 0}>
              {exportCsv.label ?? 'Export CSV'}
            </button>
          ) : null}
        </div>
      ) : null}
      {/* Wider than a narrow screen, the table scrolls within its box instead of widening the page. */}
      <div className="table-wrap">
        <table className={`table ${styles.table}`}>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const col = byKey.get(header.column.id)!;
                  const dir = header.column.getIsSorted();
                  const ariaSort = dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : undefined;
                  const label = col.hideHeader ? <span className="visually-hidden">{headerText(col)}</span> : <HeaderLabel col={col} />;
                  let inner: React.ReactNode = label;
                  if (header.column.getCanSort() && !col.hideHeader) {
                    if (sorting.mode === 'url') {
                      const next = dir === 'asc' ? 'desc' : 'asc';
                      inner = (
                        <Link href={urlFor(sorting, col.key, next)} className="sort-button" scroll={false}>
                          <HeaderLabel col={col} />
                          <span aria-hidden="true">{sortIndicator(dir)}</span>
                        </Link>
                      );
                    } else {
                      inner = (
                        <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                          <HeaderLabel col={col} />
                          <span aria-hidden="true">{sortIndicator(dir)}</span>
                        </button>
                      );
                    }
                  }
                  return (
                    <th key={header.id} scope="col" aria-sort={ariaSort} className={isNumberKind(col) ? styles.num : undefined}>
                      {inner}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {pageRows.map((row) => (
              <tr key={row.id}>
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className={isNumberKind(byKey.get(cell.column.id)!) ? styles.num : undefined}>
                    <table.FlexRender cell={cell} />
                  </td>
                ))}
              </tr>
            ))}
            {pageRows.length === 0 && (filtering || emptyMessage) ? (
              <tr>
                <td colSpan={visibleColumns.length} className={styles.empty}>
                  <span>{emptyMessage ?? 'No rows match'}</span>
                  {filtering ? (
                    <button type="button" className="button button-secondary button-small" onClick={clearFilters}>
                      Clear filters
                    </button>
                  ) : null}
                </td>
              </tr>
            ) : null}
          </tbody>
          {totalsRow ? (
            <tfoot>
              <tr className={styles.totals}>
                {visibleCols.map((col, i) =>
                  i === 0 ? (
                    <th key={col.key} scope="row">
                      <CellContent col={col} row={totalsRow} style={numberStyle} plain />
                    </th>
                  ) : (
                    <td key={col.key} className={isNumberKind(col) ? styles.num : undefined}>
                      <CellContent col={col} row={totalsRow} style={numberStyle} plain />
                    </td>
                  ),
                )}
              </tr>
            </tfoot>
          ) : null}
        </table>
      </div>
      {pagination ? (
        <div className={styles.pager}>
          <p className={styles.showing} role="status">
            {matching.length === 0 ? 'No rows' : `Showing ${count(first)}–${count(last)} of ${count(matching.length)}`}
          </p>
          <div className={styles.control}>
            <label htmlFor={`${uid}-size`}>Rows per page</label>
            <select id={`${uid}-size`} value={pageSize} onChange={(e) => table.setPageSize(Number(e.target.value))}>
              {pagination.pageSizes.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <nav className={styles.pageButtons} aria-label="Pages">
            <button type="button" className="button button-secondary button-small" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()}>
              ← Previous
            </button>
            <span>
              Page {count(pageIndex + 1)} of {count(Math.max(1, table.getPageCount()))}
            </span>
            <button type="button" className="button button-secondary button-small" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()}>
              Next →
            </button>
          </nav>
        </div>
      ) : null}
    </div>
  );
}
