// Campaign / rest of platform per metric and period, as bars around 1×:
// right of the line the campaign's figure is higher, left lower, on a log
// scale (½× and 2× are the same distance from 1×; beyond them the bar is
// capped and the number says how far). The colour follows the engine's
// rating, not the raw direction: a gap within noise stays grey.
import { formatNumber, type NumberStyle } from '@/lib/format/number';
import type { AnalysisTable } from '@/lib/performance/detail';
import { ratingTone } from './Values';
import styles from './detail.module.css';

const TONE_CLASS = { good: styles.barGood, bad: styles.barBad, neutral: styles.barNeutral, none: styles.barNeutral } as const;

function barGeometry(ratio: number): { left: string; width: string } {
  const x = Math.max(-1, Math.min(1, Math.log2(ratio)));
  const width = Math.abs(x) * 50;
  return { left: `${x >= 0 ? 50 : 50 - width}%`, width: `${Math.max(width, 0.5)}%` };
}

export function RatioBars({ analysis, style }: { analysis: AnalysisTable; style: NumberStyle }) {
  return (
    <div>
      <div className={styles.bars} role="table" aria-label="Campaign figure divided by the rest of its platform's, per metric and period">
        <div role="row" style={{ display: 'contents' }}>
          <span role="columnheader" className={styles.barsHead}>
            Metric
          </span>
          {analysis.periods.map((p) => (
            <span key={p.days} role="columnheader" className={styles.barsHead}>
              {p.days} days
            </span>
          ))}
        </div>
        {analysis.rows.map((row) => (
          <div key={row.metric} role="row" style={{ display: 'contents' }}>
            <span role="rowheader" className={styles.metricName}>
              {row.metric}
            </span>
            {analysis.periods.map((p) => {
              const cell = row.cells[p.days];
              const ratio = cell?.ratio ?? null;
              const tone = cell ? ratingTone(cell.rating) : 'none';
              return (
                <span key={p.days} role="cell" className={styles.barCell}>
                  <span className={styles.track} aria-hidden="true">
                    {ratio !== null && ratio > 0 ? <span className={`${styles.bar} ${TONE_CLASS[tone]}`} style={barGeometry(ratio)} /> : null}
                  </span>
                  <span className={styles.barValue}>
                    {ratio === null ? '—' : `${formatNumber(ratio, style, 2)}×`}
                    {cell && ratio !== null ? <span className="visually-hidden">, rated {cell.rating}</span> : null}
                  </span>
                </span>
              );
            })}
          </div>
        ))}
      </div>
      <p className={styles.legend}>
        1× is the rest of the platform&apos;s figure. Green and red only where the engine rates the gap as beyond noise (better or worse for that
        metric, lower CPA being better); grey where it is within noise, too thin to judge, or a volume. Bars stop at ½× and 2×.
      </p>
    </div>
  );
}
