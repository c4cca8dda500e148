'use client';
// The one data table of the app, over @tanstack/react-table (v9). A server
// page gives it plain columns and rows (no functions cross the boundary): each
// column says which row field it shows and how (text, code, time, link).
// Sorting either happens here on the whole list (sorting.mode 'client'), or,
// for a server-paginated list, lives in the URL (?sort=&dir=) so the server
// orders every page and a sorted view can be shared (sorting.mode 'url').
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { formatDay, formatUtc } from '@/lib/format/time';
import {
  createSortedRowModel,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type SortingState,
} from '@tanstack/react-table';

export type CellValue = string | number | boolean | null;
export type DataRow = { id: string } & Record<string, CellValue>;

export interface DataColumn {
  /** The row field shown (and sorted on). */
  key: string;
  header: string;
  /**
   * text (default); code; time (ISO value shown as date+time UTC); date (ISO value, day only); link (to `hrefKey`);
   * details (a long text folded in a <details>, its summary from `labelKey`; the summary alone, as text, when the value is null).
   */
  kind?: 'text' | 'code' | 'time' | 'date' | 'link' | 'details';
  /** A field whose text follows the value, muted (e.g. "(you)"). */
  noteKey?: string;
  /** For links: the field holding the URL, and the one holding the accessible name (for details: the summary). */
  hrefKey?: string;
  labelKey?: string;
  /** Header read by screen readers only (e.g. an actions column). */
  hideHeader?: boolean;
  /** Default: true except for links and details. */
  sortable?: boolean;
  /** Character order ('text') or natural order, numbers by value ('natural'). Default: text for time, date and code; natural otherwise. */
  sortAs?: 'text' | 'natural';
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

const features = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text },
});

type Def = ColumnDef<typeof features, DataRow>;

function formatTime(iso: string, kind: 'time' | 'date'): string {
  return kind === 'date' ? formatDay(iso) : formatUtc(iso);
}

function CellContent({ col, row }: { col: DataColumn; row: DataRow }) {
  const value = row[col.key];
  const note = col.noteKey ? row[col.noteKey] : null;
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
        typeof href === 'string' ? (
          <Link href={href} aria-label={typeof label === 'string' ? label : undefined}>
            {String(value ?? '')}
          </Link>
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
    default:
      content = value === null || value === '' ? '—' : String(value);
  }
  return (
    <>
      {content}
      {note ? <span className="muted"> {String(note)}</span> : null}
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

export function DataTable({
  caption,
  columns,
  rows,
  sorting = { mode: 'client' },
}: {
  caption: string;
  columns: DataColumn[];
  rows: DataRow[];
  sorting?: DataTableSorting;
}) {
  const defs = useMemo<Def[]>(
    () =>
      columns.map((col) => ({
        id: col.key,
        accessorFn: (row: DataRow) => row[col.key] ?? null,
        header: col.header,
        cell: ({ row }) => <CellContent col={col} row={row.original} />,
        enableSorting: col.sortable ?? (col.kind !== 'link' && col.kind !== 'details'),
        // ISO times sort as text; numbers and mixed text naturally.
        sortFn: (col.sortAs ?? (col.kind === 'time' || col.kind === 'date' || col.kind === 'code' ? 'text' : 'natural')) === 'text' ? 'text' : 'alphanumeric',
        sortUndefined: 'last',
      })),
    [columns],
  );

  const initial: SortingState =
    sorting.mode === 'client' && sorting.initial ? [{ id: sorting.initial.key, desc: Boolean(sorting.initial.desc) }] : [];
  const [clientSorting, setClientSorting] = useState<SortingState>(initial);
  const urlSorting: SortingState = sorting.mode === 'url' && sorting.sort ? [{ id: sorting.sort, desc: sorting.dir === 'desc' }] : [];

  const table = useTable({
    features,
    columns: defs,
    data: rows,
    getRowId: (row) => row.id,
    // Server-sorted lists arrive in order: the table only shows the state.
    manualSorting: sorting.mode === 'url',
    enableSortingRemoval: false,
    state: { sorting: sorting.mode === 'url' ? urlSorting : clientSorting },
    onSortingChange: setClientSorting,
  });

  return (
    // Wider than a narrow screen, the table scrolls within its box instead of widening the page.
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const col = columns.find((c) => c.key === header.column.id)!;
                const dir = header.column.getIsSorted();
                const ariaSort = dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : undefined;
                const label = col.hideHeader ? <span className="visually-hidden">{col.header}</span> : col.header;
                let inner: React.ReactNode = label;
                if (header.column.getCanSort() && !col.hideHeader) {
                  if (sorting.mode === 'url') {
                    const next = dir === 'asc' ? 'desc' : 'asc';
                    inner = (
                      <Link href={urlFor(sorting, col.key, next)} className="sort-button" scroll={false}>
                        {col.header}
                        <span aria-hidden="true">{sortIndicator(dir)}</span>
                      </Link>
                    );
                  } else {
                    inner = (
                      <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                        {col.header}
                        <span aria-hidden="true">{sortIndicator(dir)}</span>
                      </button>
                    );
                  }
                }
                return (
                  <th key={header.id} scope="col" aria-sort={ariaSort}>
                    {inner}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id}>
              {row.getAllCells().map((cell) => (
                <td key={cell.id}>
                  <table.FlexRender cell={cell} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
