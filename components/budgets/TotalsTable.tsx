// The month per platform and for every platform together: daily and month
// budgets of the active allocations, spend of yesterday and of the month of
// every allocation, and the projected month end against the month budget;
// once the month is closed, its spend against its budget (the projection is
// that spend, so it is not repeated). A handful of rows, in a plain table
// that becomes one block per platform, its figures two by two, when its box
// is narrow (a phone): nothing scrolls sideways.
import type { MonthCalendar } from '@/lib/budgets/pacing';
import type { TotalsRow } from '@/lib/budgets/queries';
import { formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import styles from './budgets.module.css';

interface Column {
  key: string;
  header: string;
  /** A muted second line of the header. */
  note?: string;
  cell: (t: TotalsRow, style: NumberStyle) => React.ReactNode;
}

function Meter({ ratio, style }: { ratio: number | null; style: NumberStyle }) {
  if (ratio === null) return <>—</>;
  return (
    <>
      {formatPercent(ratio, style, 0)}
      <span className={styles.meter} aria-hidden="true">
        <span className={ratio > 1 ? styles.meterOver : styles.meterFill} style={{ width: `${Math.max(0, Math.min(ratio, 1)) * 100}%` }} />
      </span>
    </>
  );
}

function columnsOf(closed: boolean, month: string): Column[] {
  const money = (v: number, style: NumberStyle) => formatMoney(v, style);
  return [
    {
      key: 'allocations',
      header: 'Allocations',
      cell: (t, style) => (
        <>
          {formatNumber(t.allocations, style)}
          <span className={styles.sub}>{t.active} active</span>
        </>
      ),
    },
    { key: 'daily', header: 'Daily budget', note: 'active', cell: (t, style) => money(t.dailyBudget, style) },
    { key: 'month', header: 'Month budget', note: 'active', cell: (t, style) => money(t.monthBudget, style) },
    { key: 'yesterday', header: 'Yesterday', cell: (t, style) => money(t.yesterdaySpend, style) },
    closed
      ? { key: 'spent', header: `Spent in ${month}`, cell: (t, style) => money(t.mtdSpend, style) }
      : { key: 'spent', header: 'Spent to date', cell: (t, style) => money(t.mtdSpend, style) },
    ...(closed ? [] : [{ key: 'projected', header: 'Projected month end', cell: (t: TotalsRow, style: NumberStyle) => money(t.projected, style) }]),
    { key: 'ratio', header: closed ? 'Spent / budget' : 'Projected / budget', cell: (t, style) => <Meter ratio={t.ratio} style={style} /> },
    { key: 'off', header: closed ? 'Off budget' : 'Off pace', cell: (t, style) => formatNumber(t.offPace, style) },
  ];
}

function Line({ t, columns, style, total }: { t: TotalsRow; columns: Column[]; style: NumberStyle; total?: boolean }) {
  return (
    <tr className={total ? styles.totalsAll : undefined}>
      <th scope="row" className={styles.totalsLabel}>
        {t.label}
      </th>
      {columns.map((c) => (
        <td key={c.key} className={styles.num} data-label={c.note ? `${c.header} (${c.note})` : c.header}>
          {c.cell(t, style)}
        </td>
      ))}
    </tr>
  );
}

export function TotalsTable({
  platforms,
  overall,
  style,
  calendar,
  month,
}: {
  platforms: TotalsRow[];
  overall: TotalsRow;
  style: NumberStyle;
  calendar: MonthCalendar;
  /** The month's name, for the headers of a closed month. */
  month: string;
}) {
  const columns = columnsOf(calendar.closed, month);
  return (
    <div className={styles.tableBox}>
      <div className="table-wrap">
        <table className={`table ${styles.totals} ${styles.totalsStack}`}>
          <caption className="visually-hidden">
            {calendar.closed ? `Budgets and spend per platform in ${month}, closed` : 'Budgets and spend per platform this month'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Platform</th>
              {columns.map((c) => (
                <th key={c.key} scope="col" className={styles.num}>
                  {c.header}
                  {c.note ? <span className={styles.headerNote}>{c.note}</span> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {platforms.map((t) => (
              <Line key={t.key} t={t} columns={columns} style={style} />
            ))}
          </tbody>
          {/* Every platform together, computed by the server over every allocation (the same sums), not re-added here. */}
          {platforms.length > 1 ? (
            <tfoot>
              <Line t={overall} columns={columns} style={style} total />
            </tfoot>
          ) : null}
        </table>
      </div>
    </div>
  );
}
