// The campaign's last 30 days against its industry's percentiles (platform,
// the tenant's vertical, its campaign type or 'all'). Where there is nothing
// to compare with, it says why, and shows no figure it does not have.
import { BenchmarkRange } from '@/components/performance/BenchmarkRange';
import { formatCalendarDay, formatPercent, type NumberStyle } from '@/lib/format/number';
import { benchmarkPosition, type BenchmarkPosition } from '@/lib/performance/benchmark-verdict';
import { BENCHMARK_LABELS, type BenchmarkFigure, type BenchmarkMetric, type CampaignBenchmarks } from '@/lib/performance/detail';
import { platformLabel, type Metric } from '@/lib/performance/metrics';
import { formatByKind } from './Values';
import styles from './detail.module.css';

// BenchmarkRange draws one of the eight metrics. Conversion rate is not one
// of them: it gets the same numbers and a verdict of its own in words.
const RANGE_METRIC: Readonly<Record<Exclude<BenchmarkMetric, 'conversion_rate'>, Metric>> = {
  roas: 'roas',
  cpa: 'cpa',
  ctr: 'ctr',
  cpc: 'cpc',
  cpm: 'cpm',
};

const POSITION_TEXT: Readonly<Record<BenchmarkPosition, { text: string; tone: 'good' | 'bad' | 'neutral' }>> = {
  'above-p90': { text: 'Top 10 % of the industry: conversion rate above the 90th percentile.', tone: 'good' },
  'below-p10': { text: 'Bottom 10 % of the industry: conversion rate below the 10th percentile.', tone: 'bad' },
  'above-median': { text: 'Better than the industry median: higher conversion rate.', tone: 'good' },
  'below-median': { text: 'Worse than the industry median: lower conversion rate.', tone: 'bad' },
  'at-median': { text: 'Conversion rate at the industry median.', tone: 'neutral' },
  'no-value': { text: 'No value in this range to compare with the industry.', tone: 'neutral' },
};
const TONE_CLASS = { good: styles.verdictGood, bad: styles.verdictBad, neutral: styles.verdictNeutral } as const;

function ConversionRateRange({ b, value, style }: { b: NonNullable<BenchmarkFigure['benchmark']>; value: number | null; style: NumberStyle }) {
  const verdict = POSITION_TEXT[benchmarkPosition(b.p10, b.p50, b.p90, value)];
  const numbers = [
    ['p10', b.p10],
    ['Median', b.p50],
    ['p90', b.p90],
    ['This campaign', value],
  ] as const;
  return (
    <div role="group" aria-label="Conversion rate against the industry benchmark">
      <dl className={styles.benchNumbers}>
        {numbers.map(([term, v]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{formatPercent(v, style, 2)}</dd>
          </div>
        ))}
      </dl>
      <p className={`${styles.verdict} ${TONE_CLASS[verdict.tone]}`}>{verdict.text}</p>
    </div>
  );
}
const KIND = { roas: 'ratio', cpa: 'money', ctr: 'percent', cpc: 'money', cpm: 'money', conversion_rate: 'percent' } as const;

export function BenchmarkSection({ benchmarks, platform, style }: { benchmarks: CampaignBenchmarks; platform: string; style: NumberStyle }) {
  const { period } = benchmarks;
  const vertical = benchmarks.vertical?.replace('_', ' ') ?? '';
  const range = `${formatCalendarDay(period.from, style.locale, { year: false })} – ${formatCalendarDay(period.to, style.locale)}`;
  if (benchmarks.unavailable) {
    return (
      <>
        <p className="empty-state">{benchmarks.unavailable}</p>
        <p className={styles.intro}>
          The campaign&apos;s own figures of {range}:{' '}
          {benchmarks.figures.map((f, i) => (
            <span key={f.metric}>
              {i > 0 ? ' · ' : ''}
              {BENCHMARK_LABELS[f.metric]} {formatByKind(KIND[f.metric], f.value, style)}
            </span>
          ))}
        </p>
      </>
    );
  }
  return (
    <>
      <p className={styles.intro}>
        {range}, against {platformLabel(platform)} campaigns in the {vertical} vertical
        {benchmarks.campaignType === 'all' ? ' (all campaign types)' : ` of type ${benchmarks.campaignType}`}: the 10th, 50th and 90th
        percentiles. Figures are ratios of the period&apos;s sums.
      </p>
      <div className={styles.benchGrid}>
        {benchmarks.figures.map((f) => (
          <div key={f.metric} className={styles.benchCard}>
            <h3 className={styles.benchTitle}>{BENCHMARK_LABELS[f.metric]}</h3>
            {f.benchmark && f.metric === 'conversion_rate' ? (
              <ConversionRateRange b={f.benchmark} value={f.value} style={style} />
            ) : f.benchmark && f.metric !== 'conversion_rate' ? (
              <BenchmarkRange
                metric={RANGE_METRIC[f.metric]}
                label={`${BENCHMARK_LABELS[f.metric]} against the ${platformLabel(platform)} ${vertical} benchmark`}
                p10={f.benchmark.p10}
                p50={f.benchmark.p50}
                p90={f.benchmark.p90}
                value={f.value}
                style={style}
              />
            ) : (
              <p className={styles.benchMissing}>
                This campaign: {formatByKind(KIND[f.metric], f.value, style)}. No benchmark for this metric.
              </p>
            )}
          </div>
        ))}
      </div>
    </>
  );
}
