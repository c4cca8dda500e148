// The range's eight figures against the comparison, each with its change
// coloured by what is good for that metric, a sparkline of the range, and the
// per-platform figures where summing platforms would hide their differences.
import { formatChange, formatMetric } from '@/lib/format/number';
import { changeTone, METRIC_INFO, platformLabel } from '@/lib/performance/metrics';
import type { KpiCard, TenantStyle } from '@/lib/performance/types';
import { Sparkline } from './Sparkline';
import styles from './performance.module.css';

const TONE_CLASS = { good: styles.good, bad: styles.bad, neutral: styles.neutral } as const;

function toneWord(tone: 'good' | 'bad' | 'neutral'): string {
  return tone === 'good' ? 'better' : tone === 'bad' ? 'worse' : 'no better or worse';
}

export function KpiCards({ cards, style, comparisonLabel, rangeLabel }: { cards: KpiCard[]; style: TenantStyle; comparisonLabel: string; rangeLabel: string }) {
  return (
    <section aria-labelledby="kpi-heading">
      <h2 id="kpi-heading" className="visually-hidden">
        Key figures, {rangeLabel}
      </h2>
      <ul className={styles.kpis}>
        {cards.map((card) => {
          const info = METRIC_INFO[card.metric];
          const tone = changeTone(card.metric, card.changePct);
          // Conversions and value add up what each platform attributes in its own way.
          const summed = info.volume && card.metric !== 'spend' && card.perPlatform.length > 1;
          return (
            <li key={card.metric} className={styles.kpi} data-metric={card.metric}>
              <div className={styles.kpiHead}>
                <span className={styles.kpiLabel} title={info.definition}>
                  {info.label}
                </span>
                <Sparkline values={card.spark} tone={tone} label={`${info.label} per day, ${rangeLabel}`} />
              </div>
              <div className={styles.kpiValue}>{formatMetric(card.metric, card.current, style)}</div>
              {summed ? <div className={styles.kpiNote}>All platforms, each platform&apos;s own attribution</div> : null}
              <div className={styles.kpiCompare}>
                <span className={`${styles.change} ${TONE_CLASS[tone]}`}>
                  {formatChange(card.changePct, style)}
                  <span className="visually-hidden"> ({toneWord(tone)})</span>
                </span>{' '}
                <span className="muted">
                  vs {formatMetric(card.metric, card.comparison, style)} {comparisonLabel}
                </span>
              </div>
              {card.thinNote ? <div className={styles.kpiThin}>{card.thinNote}</div> : null}
              {card.industry ? (
                <div className={styles.kpiIndustry}>
                  Industry median ({platformLabel(card.industry.platform)}): {formatMetric(card.metric, card.industry.p50, style)}
                </div>
              ) : null}
              {card.perPlatform.length > 1 ? (
                <details className={styles.kpiPlatforms}>
                  <summary>By platform</summary>
                  <table>
                    <tbody>
                      {card.perPlatform.map((p) => (
                        <tr key={p.platform}>
                          <th scope="row">{platformLabel(p.platform)}</th>
                          <td>{formatMetric(card.metric, p.current, style)}</td>
                          <td className={TONE_CLASS[changeTone(card.metric, p.changePct)]}>{formatChange(p.changePct, style)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </details>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
