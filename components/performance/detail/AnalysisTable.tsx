// The engine's analysis of the campaign (ads.analyze_campaign_performance)
// over 7, 14 and 30 days: per metric its figure, the rest of its platform's,
// and the rating, then the advice that came with ratings outside the noise.
import { formatCalendarDay, type NumberStyle } from '@/lib/format/number';
import { ANALYSIS_METRIC_INFO, type AnalysisDays, type AnalysisTable as Analysis } from '@/lib/performance/detail';
import { formatByKind, RatingBadge, ratingTone } from './Values';
import styles from './detail.module.css';

function periodLabel(p: { days: number; from: string; to: string }, locale: string): string {
  return `${formatCalendarDay(p.from, locale, { year: false })} – ${formatCalendarDay(p.to, locale)}`;
}

interface Advice {
  metric: string;
  text: string;
  priority: string;
  days: AnalysisDays[];
}

/** The advice of each metric, one line per distinct text, with the periods it came from. */
function adviceOf(analysis: Analysis): Advice[] {
  const out: Advice[] = [];
  for (const row of analysis.rows) {
    for (const p of analysis.periods) {
      const cell = row.cells[p.days];
      if (!cell?.recommendation) continue;
      const tone = ratingTone(cell.rating);
      if (tone !== 'good' && tone !== 'bad') continue;
      const same = out.find((a) => a.metric === row.metric && a.text === cell.recommendation);
      if (same) same.days.push(p.days);
      else out.push({ metric: row.metric, text: cell.recommendation, priority: cell.priority, days: [p.days] });
    }
  }
  return out;
}

export function AnalysisTable({ analysis, style }: { analysis: Analysis; style: NumberStyle }) {
  const advice = adviceOf(analysis);
  return (
    <>
      <div className="table-wrap">
        <table className={`table ${styles.analysis}`}>
          <caption className="visually-hidden">
            Campaign against the rest of its platform, last 7, 14 and 30 days: the campaign&apos;s figure, the rest of the platform&apos;s, and the
            rating
          </caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              {analysis.periods.map((p) => (
                <th key={p.days} scope="col" className={styles.period}>
                  {p.days} days
                  <span className={styles.note}>{periodLabel(p, style.locale)}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {analysis.rows.map((row) => {
              const info = ANALYSIS_METRIC_INFO[row.metric];
              return (
                <tr key={row.metric}>
                  <th scope="row" className={styles.metricName} title={info.note}>
                    {row.metric}
                    {row.metric === 'Spend' || row.metric === 'Conversions' ? <span className={styles.note}>per day</span> : null}
                  </th>
                  {analysis.periods.map((p) => {
                    const cell = row.cells[p.days];
                    if (!cell) {
                      return (
                        <td key={p.days} className="muted">
                          Not analysed
                        </td>
                      );
                    }
                    return (
                      <td key={p.days} className={styles.period}>
                        <span className={styles.cellLine}>
                          <span className={styles.current}>{formatByKind(info.kind, cell.current, style)}</span>
                          <RatingBadge rating={cell.rating} />
                        </span>
                        <span className={styles.rest}>rest of platform {formatByKind(info.kind, cell.baseline, style)}</span>
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className={styles.legend}>
        Spend and conversions are per day with delivery, against the other campaigns&apos; average campaign-day; their rating says only whether
        the campaign is larger or smaller.
      </p>
      {advice.length > 0 ? (
        <>
          <h3 className={styles.subhead}>What the engine suggests</h3>
          <ul className={styles.advice}>
            {advice.map((a) => (
              <li key={`${a.metric}|${a.text}`}>
                <strong>{a.metric}</strong> ({a.days.map((d) => `${d} days`).join(', ')}; priority {a.priority}): {a.text}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}
