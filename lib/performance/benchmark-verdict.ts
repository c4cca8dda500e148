// Where a value sits among an industry benchmark's percentiles, in one line
// that knows which direction is good: above p90 is the top 10 % for ROAS or
// CTR, below p10 is the top 10 % for CPA, CPC or CPM. Pure; no formatting of
// numbers (the component writes them), so the sentence is the same in every
// locale and currency.
import { METRIC_INFO, type Metric } from './metrics';

/** Where the value falls: beyond a tail (when that percentile is known), or against the median. */
export type BenchmarkPosition = 'above-p90' | 'below-p10' | 'above-median' | 'below-median' | 'at-median' | 'no-value';

export interface BenchmarkVerdict {
  position: BenchmarkPosition;
  /** good / bad for the metric's direction; neutral for a metric with no good direction (spend), at the median, or without a value. */
  tone: 'good' | 'bad' | 'neutral';
  text: string;
}

function finite(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

/** The position of the value among the percentiles; a missing p10 or p90 is never crossed. */
export function benchmarkPosition(p10: number | null, p50: number, p90: number | null, value: number | null): BenchmarkPosition {
  if (!finite(value) || !Number.isFinite(p50)) return 'no-value';
  if (finite(p90) && value > p90) return 'above-p90';
  if (finite(p10) && value < p10) return 'below-p10';
  if (value > p50) return 'above-median';
  if (value < p50) return 'below-median';
  return 'at-median';
}

export function benchmarkVerdict(metric: Metric, p10: number | null, p50: number, p90: number | null, value: number | null): BenchmarkVerdict {
  const { label, higherIsBetter } = METRIC_INFO[metric];
  const position = benchmarkPosition(p10, p50, p90, value);
  if (position === 'no-value') return { position, tone: 'neutral', text: 'No value in this range to compare with the industry.' };
  if (position === 'at-median') return { position, tone: 'neutral', text: `${label} at the industry median.` };

  const above = position === 'above-p90' || position === 'above-median';
  const tail = position === 'above-p90' || position === 'below-p10';
  const where = position === 'above-p90' ? 'above the 90th percentile' : position === 'below-p10' ? 'below the 10th percentile' : null;

  if (higherIsBetter === null) {
    // No good direction: say where it is, and nothing more.
    const text = where ? `${label} ${where} of the industry.` : `${label} ${above ? 'above' : 'below'} the industry median.`;
    return { position, tone: 'neutral', text };
  }

  const good = above === higherIsBetter;
  const tone = good ? 'good' : 'bad';
  if (tail) return { position, tone, text: `${good ? 'Top' : 'Bottom'} 10 % of the industry: ${label} ${where}.` };
  return {
    position,
    tone,
    text: `${good ? 'Better' : 'Worse'} than the industry median: ${above ? 'higher' : 'lower'} ${label}${higherIsBetter ? '' : ` (lower is better)`}.`,
  };
}
