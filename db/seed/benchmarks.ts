// Industry benchmarks: percentiles spread log-normally around each median of
// the catalogue, with a seeded sample size.

import { BENCHMARK_MEDIANS, BENCHMARK_SOURCE, type BenchmarkMetric, type Platform, type Vertical } from './catalog';
import { Rng } from './random';
import type { BenchmarkRow } from './rows';

const Z10 = -1.2815516;
const Z25 = -0.6744898;
const SPREAD: Readonly<Record<BenchmarkMetric, number>> = {
  ctr: 0.45,
  cpc: 0.45,
  cpm: 0.4,
  cpa: 0.5,
  roas: 0.45,
  conversion_rate: 0.5,
};
const DECIMALS: Readonly<Record<BenchmarkMetric, number>> = {
  ctr: 5,
  cpc: 2,
  cpm: 2,
  cpa: 2,
  roas: 3,
  conversion_rate: 5,
};

export function generateBenchmarks(validFrom: string): BenchmarkRow[] {
  const rows: BenchmarkRow[] = [];
  for (const [vertical, byPlatform] of Object.entries(BENCHMARK_MEDIANS) as [Vertical, (typeof BENCHMARK_MEDIANS)[Vertical]][]) {
    for (const [platform, medians] of Object.entries(byPlatform) as [Platform, Record<BenchmarkMetric, number>][]) {
      for (const [metric, med] of Object.entries(medians) as [BenchmarkMetric, number][]) {
        const rng = Rng.stream(`benchmark|${vertical}|${platform}|${metric}`);
        const f = 10 ** DECIMALS[metric];
        const at = (z: number) => Math.round(med * Math.exp(z * SPREAD[metric]) * f) / f;
        const p = [at(Z10), at(Z25), at(0), at(-Z25), at(-Z10)] as const;
        for (let k = 1; k < p.length; k++) {
          if (!((p[k] ?? 0) > (p[k - 1] ?? 0))) throw new Error(`benchmark ${vertical}/${platform}/${metric}: percentiles not increasing`);
        }
        rows.push({
          platform,
          industryVertical: vertical,
          campaignType: 'all',
          metricName: metric,
          benchmarkValue: p[2],
          p10: p[0],
          p25: p[1],
          p50: p[2],
          p75: p[3],
          p90: p[4],
          sampleSize: rng.int(400, 4800),
          source: BENCHMARK_SOURCE,
          validFrom,
        });
      }
    }
  }
  return rows;
}

