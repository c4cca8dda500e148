// Small pieces shared by the detail page's sections: a value written by its
// kind (money, count, ratio, percent) in the tenant's style, and the engine's
// rating as a badge that says it in words as well as in colour.
import { formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import type { MetricKind } from '@/lib/performance/metrics';
import styles from './detail.module.css';

export function formatByKind(kind: MetricKind, value: number | null, style: NumberStyle): string {
  switch (kind) {
    case 'money':
      return formatMoney(value, style);
    case 'count':
      return formatNumber(value, style, value !== null && Math.abs(value) < 100 && !Number.isInteger(value) ? 1 : 0);
    case 'ratio':
      return formatNumber(value, style, 2);
    case 'percent':
      return formatPercent(value, style, 2);
  }
}

export type RatingTone = 'good' | 'bad' | 'neutral' | 'none';

/** Excellent / Good are better than the rest of the platform beyond noise, Poor / Critical worse; Average is within noise. */
export function ratingTone(rating: string): RatingTone {
  switch (rating) {
    case 'Excellent':
    case 'Good':
      return 'good';
    case 'Poor':
    case 'Critical':
      return 'bad';
    case 'Insufficient data':
      return 'none';
    default:
      return 'neutral';
  }
}

const TONE_CLASS: Readonly<Record<RatingTone, string | undefined>> = {
  good: styles.ratingGood,
  bad: styles.ratingBad,
  neutral: styles.ratingNeutral,
  none: styles.ratingNone,
};

export function RatingBadge({ rating }: { rating: string }) {
  return <span className={`${styles.rating} ${TONE_CLASS[ratingTone(rating)] ?? ''}`}>{rating}</span>;
}
