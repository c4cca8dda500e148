// A value against an industry benchmark: a bar from p10 to p90 with a tick at
// the median and a marker at the value (clamped to the drawn scale, with an
// arrow when it lies beyond), the numbers written under it and a one-line
// verdict that knows which direction is good. Plain SVG: usable from server
// components. The picture is decorative; the numbers and verdict are text.
import { benchmarkVerdict } from '@/lib/performance/benchmark-verdict';
import type { NumberStyle } from '@/lib/format/number';
import { formatMetric } from '@/lib/format/number';
import type { Metric } from '@/lib/performance/metrics';
import styles from './charts.module.css';

const W = 240;
const H = 34;
/** The drawn scale runs between these x (room for the arrows at either end). */
const LEFT = 12;
const RIGHT = W - 12;
const BAR_Y = 19;
const BAR_H = 6;

const TONE = {
  good: { cls: styles.toneGood, colour: '#067647' },
  bad: { cls: styles.toneBad, colour: '#b42318' },
  neutral: { cls: styles.toneNeutral, colour: '#1b1f24' },
} as const;

function finite(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

export function BenchmarkRange({
  metric,
  p10,
  p50,
  p90,
  value,
  style,
  label,
  valueLabel = 'This campaign',
}: {
  metric: Metric;
  p10: number | null;
  p50: number;
  p90: number | null;
  value: number | null;
  style: NumberStyle;
  /** Names the whole figure for screen readers ("CPA against the Meta ecommerce benchmark"). */
  label: string;
  /** The name of the value in the numbers under the bar. */
  valueLabel?: string;
}) {
  const verdict = benchmarkVerdict(metric, p10, p50, p90, value);
  const tone = TONE[verdict.tone];

  // The bar covers p10..p90 (from the median on a side whose percentile is missing); the scale adds a quarter of it each side.
  const lo = finite(p10) ? Math.min(p10, p50) : p50;
  const hi = finite(p90) ? Math.max(p90, p50) : p50;
  let span = hi - lo;
  if (!(span > 0)) span = Math.abs(p50) > 0 ? Math.abs(p50) : 1;
  const dMin = lo - span * 0.25;
  const dMax = hi + span * 0.25;
  const x = (v: number) => LEFT + ((Math.min(Math.max(v, dMin), dMax) - dMin) * (RIGHT - LEFT)) / (dMax - dMin);

  const valueFinite = finite(value);
  const beyond = valueFinite ? (value > dMax ? 'right' : value < dMin ? 'left' : null) : null;
  const beyondText =
    beyond === 'right' ? (finite(p90) ? 'beyond p90' : 'off the scale') : beyond === 'left' ? (finite(p10) ? 'below p10' : 'off the scale') : null;

  const numbers: { term: string; value: string }[] = [
    { term: 'p10', value: formatMetric(metric, p10, style) },
    { term: 'Median', value: formatMetric(metric, p50, style) },
    { term: 'p90', value: formatMetric(metric, p90, style) },
    { term: valueLabel, value: formatMetric(metric, value, style) + (beyondText ? ` (${beyondText})` : '') },
  ];

  const mid = BAR_Y + BAR_H / 2;
  return (
    <div className={styles.benchmark} role="group" aria-label={label}>
      <svg className={styles.benchmarkBar} viewBox={`0 0 ${W} ${H}`} aria-hidden="true" focusable="false">
        <line x1={LEFT} x2={RIGHT} y1={mid} y2={mid} stroke="#d9dee5" strokeWidth={1} />
        {hi > lo ? <rect x={x(lo)} y={BAR_Y} width={x(hi) - x(lo)} height={BAR_H} rx={3} fill="#1f5fd6" fillOpacity={0.28} /> : null}
        <line x1={x(p50)} x2={x(p50)} y1={BAR_Y - 3} y2={BAR_Y + BAR_H + 3} stroke="#1b1f24" strokeWidth={2} />
        {valueFinite && beyond === null ? (
          <polygon points={`${x(value) - 5},${BAR_Y - 12} ${x(value) + 5},${BAR_Y - 12} ${x(value)},${BAR_Y - 3}`} fill={tone.colour} />
        ) : null}
        {beyond === 'right' ? (
          <>
            <polygon points={`${RIGHT},${mid - 6} ${W - 1},${mid} ${RIGHT},${mid + 6}`} fill={tone.colour} />
            <text x={W - 1} y={9} textAnchor="end" fontSize={9} fill={tone.colour}>
              {beyondText} →
            </text>
          </>
        ) : null}
        {beyond === 'left' ? (
          <>
            <polygon points={`${LEFT},${mid - 6} 1,${mid} ${LEFT},${mid + 6}`} fill={tone.colour} />
            <text x={1} y={9} textAnchor="start" fontSize={9} fill={tone.colour}>
              ← {beyondText}
            </text>
          </>
        ) : null}
      </svg>
      <dl className={styles.benchmarkNumbers}>
        {numbers.map((n) => (
          <div key={n.term}>
            <dt>{n.term}</dt>
            <dd>{n.value}</dd>
          </div>
        ))}
      </dl>
      <p className={`${styles.benchmarkVerdict} ${tone.cls}`}>{verdict.text}</p>
    </div>
  );
}
