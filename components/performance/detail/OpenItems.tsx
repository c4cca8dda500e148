// The campaign's open recommendations and its anomalies (open ones, and those
// closed in the last 30 days), each linking to where it is worked.
import Link from 'next/link';
import { formatCalendarDay, formatChange, formatMetric, formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { formatUtc } from '@/lib/format/time';
import type { DetailAnomaly, DetailRecommendation } from '@/lib/performance/detail';
import { isMetric, METRIC_INFO } from '@/lib/performance/metrics';
import { TYPE_LABEL } from '@/lib/recommendations/labels';
import styles from './detail.module.css';

const SEVERITY_CLASS = { critical: styles.sevCritical, high: styles.sevHigh, medium: styles.sevMedium, low: styles.sevLow } as const;


/** An anomaly's figure the way its metric is written elsewhere (money, percent, ...). */
function anomalyValue(metricName: string, v: number | null, style: NumberStyle): string {
  return isMetric(metricName) ? formatMetric(metricName, v, style) : formatNumber(v, style, 2);
}

function entityLabel(level: 'campaign' | 'adset', name: string | null, id: string | null): string {
  return level === 'campaign' ? 'This campaign' : `Ad set ${name ?? id ?? ''}`.trim();
}

export function RecommendationList({ items, style }: { items: DetailRecommendation[]; style: NumberStyle }) {
  if (items.length === 0) {
    return <p className="empty-state">None open. New recommendations appear here after the engine&apos;s next run finds something to act on.</p>;
  }
  return (
    <ul className={styles.list}>
      {items.map((r) => (
        <li key={r.id} className={styles.item}>
          <div className={styles.itemHead}>
            <span className={`${styles.pill} ${SEVERITY_CLASS[r.priority]}`}>{r.priority}</span>
            <Link href={r.href}>{TYPE_LABEL[r.type] ?? r.type}</Link>
            <span className={styles.itemMeta}>{entityLabel(r.level, r.entityName, r.entityId)}</span>
          </div>
          <div>{r.description}</div>
          <div className={styles.itemMeta}>
            Confidence {formatPercent(r.confidence, style, 0)}
            {r.estimatedImpact !== null ? ` · expected impact ${formatNumber(r.estimatedImpact, style, 1)}${r.impactUnit ? ` ${r.impactUnit}` : ''}` : ''} ·
            expires <time dateTime={r.expiresAt}>{formatUtc(r.expiresAt, 'minutes')}</time>
          </div>
        </li>
      ))}
    </ul>
  );
}

export function AnomalyList({ items, style }: { items: DetailAnomaly[]; style: NumberStyle }) {
  if (items.length === 0) {
    return <p className="empty-state">None open, and none closed in the last 30 days. The anomaly board lists every anomaly of the tenant.</p>;
  }
  return (
    <ul className={styles.list}>
      {items.map((a) => (
        <li key={a.id} className={`${styles.item} ${a.open ? '' : styles.closed}`}>
          <div className={styles.itemHead}>
            <span className={`${styles.pill} ${SEVERITY_CLASS[a.severity]}`}>{a.severity}</span>
            <Link href={a.href}>
              {isMetric(a.metricName) ? METRIC_INFO[a.metricName].label : a.metricName} {a.anomalyType.replace('_', ' ')}
            </Link>
            <span className={styles.itemMeta}>
              <time dateTime={a.day}>{formatCalendarDay(a.day, style.locale)}</time> · {entityLabel(a.level, a.entityName, a.entityId)} ·{' '}
              {a.open ? a.status : `${a.status}${a.resolvedAt ? ` ${formatUtc(a.resolvedAt, 'minutes')}` : ''}`}
            </span>
          </div>
          <div className={styles.itemMeta}>
            {anomalyValue(a.metricName, a.actual, style)} against an expected {anomalyValue(a.metricName, a.baseline, style)} (
            {formatChange(a.deviationPercent, style)})
            {a.moneyAtStake !== null ? ` · at stake ${formatMoney(a.moneyAtStake, style)}` : ''}
          </div>
        </li>
      ))}
    </ul>
  );
}
