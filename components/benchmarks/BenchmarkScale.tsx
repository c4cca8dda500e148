// One metric against its industry percentiles: a log scale from a little below
// p10 to a little above p90, the p10–p90 range light, the p25–p75 range darker,
// the median as a tick and the tenant's figure as a marker (an arrow at the edge
// when it lies beyond). Plain SVG, usable from server components; the picture is
// decorative, the numbers and the sentence beside it are the content.
import { BENCHMARK_INFO, type BenchmarkMetric, type Percentiles, type Placement } from '@/lib/benchmarks/place';
import styles from './benchmarks.module.css';

const W = 320;
const H = 30;
const LEFT = 14;
const RIGHT = W - 14;
const BAR_Y = 14;
const BAR_H = 8;

const positive = (v: number | null): v is number => v !== null && Number.isFinite(v) && v > 0;

/** Good in the best quarter of the benchmark, bad in the weakest quarter (the direction is in betterThan). */
export function toneOf(placement: Placement): 'good' | 'bad' | 'neutral' {
  if (placement.kind !== 'placed') return 'neutral';
  if (placement.betterThan >= 75) return 'good';
  if (placement.betterThan <= 25) return 'bad';
  return 'neutral';
}

const COLOUR = { good: '#067647', bad: '#b42318', neutral: '#1b1f24' } as const;

export function BenchmarkScale({ metric, p, value, placement }: { metric: BenchmarkMetric; p: Percentiles; value: number | null; placement: Placement }) {
  const known = [p.p10, p.p25, p.p50, p.p75, p.p90].filter(positive);
  if (known.length === 0) return null;
  const lo = Math.log(Math.min(...known));
  const hi = Math.log(Math.max(...known));
  const span = hi - lo > 0 ? hi - lo : 1;
  const dMin = lo - span * 0.2;
  const dMax = hi + span * 0.2;
  const x = (v: number) => LEFT + ((Math.min(Math.max(Math.log(v), dMin), dMax) - dMin) * (RIGHT - LEFT)) / (dMax - dMin);
  const colour = COLOUR[toneOf(placement)];
  const shown = placement.kind === 'placed' && positive(value);
  const beyond = shown ? (Math.log(value) > dMax ? 'right' : Math.log(value) < dMin ? 'left' : null) : null;
  const mid = BAR_Y + BAR_H / 2;
  const outer = positive(p.p10) && positive(p.p90) ? [p.p10, p.p90] : null;
  const inner = positive(p.p25) && positive(p.p75) ? [p.p25, p.p75] : null;
  return (
    <svg className={styles.scale} viewBox={`0 0 ${W} ${H}`} aria-hidden="true" focusable="false">
      <line x1={LEFT} x2={RIGHT} y1={mid} y2={mid} stroke="#d9dee5" strokeWidth={1} />
      {outer ? <rect x={x(outer[0]!)} y={BAR_Y} width={x(outer[1]!) - x(outer[0]!)} height={BAR_H} rx={3} fill="#1f5fd6" fillOpacity={0.18} /> : null}
      {inner ? <rect x={x(inner[0]!)} y={BAR_Y} width={x(inner[1]!) - x(inner[0]!)} height={BAR_H} rx={2} fill="#1f5fd6" fillOpacity={0.4} /> : null}
      {positive(p.p50) ? <line x1={x(p.p50)} x2={x(p.p50)} y1={BAR_Y - 3} y2={BAR_Y + BAR_H + 3} stroke="#1b1f24" strokeWidth={2} /> : null}
      {shown && beyond === null ? (
        <polygon points={`${x(value!) - 6},${BAR_Y - 11} ${x(value!) + 6},${BAR_Y - 11} ${x(value!)},${BAR_Y - 1}`} fill={colour} />
      ) : null}
      {beyond === 'right' ? <polygon points={`${RIGHT},${mid - 7} ${W - 1},${mid} ${RIGHT},${mid + 7}`} fill={colour} /> : null}
      {beyond === 'left' ? <polygon points={`${LEFT},${mid - 7} 1,${mid} ${LEFT},${mid + 7}`} fill={colour} /> : null}
      <title>{BENCHMARK_INFO[metric].label}</title>
    </svg>
  );
}
