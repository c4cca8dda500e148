// The campaign's analysed periods (ads.campaign_performance), newest first:
// totals and the efficiency score the engine gave each (50 = the rest of its
// platform; above is better).
import { formatCalendarDay, formatMetric, formatNumber, type NumberStyle } from '@/lib/format/number';
import type { PerformanceHistoryRow } from '@/lib/performance/detail';
import styles from './detail.module.css';

export function HistoryTable({ rows, style }: { rows: PerformanceHistoryRow[]; style: NumberStyle }) {
  if (rows.length === 0) {
    return <p className="empty-state">No analysed periods yet: a period is recorded when the campaign delivered in it.</p>;
  }
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">Analysed periods of the campaign, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col" className={styles.num}>
              Days
            </th>
            <th scope="col" className={styles.num}>
              Spend
            </th>
            <th scope="col" className={styles.num}>
              Conversions
            </th>
            <th scope="col" className={styles.num}>
              Value
            </th>
            <th scope="col" className={styles.num}>
              ROAS
            </th>
            <th scope="col" className={styles.num}>
              CPA
            </th>
            <th scope="col" className={styles.num}>
              Efficiency
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.periodStart}|${r.periodEnd}`}>
              <td>
                <time dateTime={r.periodStart}>{formatCalendarDay(r.periodStart, style.locale)}</time> –{' '}
                <time dateTime={r.periodEnd}>{formatCalendarDay(r.periodEnd, style.locale)}</time>
              </td>
              <td className={styles.num}>{formatNumber(r.days, style)}</td>
              <td className={styles.num}>{formatMetric('spend', r.spend, style)}</td>
              <td className={styles.num}>{formatMetric('conversions', r.conversions, style)}</td>
              <td className={styles.num}>{formatMetric('value', r.value, style)}</td>
              <td className={styles.num}>{formatMetric('roas', r.roas, style)}</td>
              <td className={styles.num}>{formatMetric('cpa', r.cpa, style)}</td>
              <td className={styles.num}>
                {r.efficiencyScore === null ? <span title="Alone on its platform: nothing to compare with">—</span> : formatNumber(r.efficiencyScore, style, 1)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
