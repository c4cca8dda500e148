// How much traffic, and how many days, an A/B test needs to detect a given relative effect with
// 80 % power at a two-sided 5 % level, on the log lift that lib/abtests/stats.ts tests.
import { METRICS, MIN_SAMPLE, mixingVariance, normalQuantile, sequential, smallSampleFactor, type AbMetric, type VariantTotals } from './stats';

export interface SampleSizeInput {
  metric: AbMetric;
  /** Minimum detectable relative effect, e.g. 0.1 for 10 % (sign ignored). */
  mde: number;
  /** Average daily traffic of ONE variant (impressions, clicks, conversions, spend, value per day). */
  dailyPerVariant: VariantTotals;
  /** Baseline CTR / conversion rate; defaults to the rate in dailyPerVariant. */
  baseline?: number;
  /**
   * Recent per-day totals of one variant's worth of traffic (e.g. the last 28 days of the campaign
   * scaled to the planned share), 7 days or more. For CPA, ROAS and CPC the day-to-day variance is
   * taken from them; for CTR and conversion rate they scale the binomial variance by the observed
   * over-dispersion (never below 1).
   */
  recentDaily?: readonly VariantTotals[];
  alpha?: number;
  power?: number;
  /** Coefficient of variation of value per conversion, ROAS without recent data (default 1). */
  valueCv?: number;
}

export interface SampleSizeResult {
  /** The unit the sample is counted in (the metric's denominator count). */
  unit: 'impressions' | 'clicks' | 'conversions';
  /** Units per variant for the fixed-horizon test. */
  perVariant: number;
  /** Days for the fixed-horizon test at the given traffic. */
  daysForPower: number;
  /** Days at which the always-valid interval alone has the same power (a single look at that day). */
  sequentialDays: number;
  /** Days planned: the larger of the sequential days and the minimum sample (count and 7 days). */
  daysNeeded: number;
  varianceSource: 'model' | 'recent_days';
  /** Variance of ln(metric) for one day of one variant, used for both variants. */
  dailyLogVariance: number;
}

const UNIT: Record<AbMetric, 'impressions' | 'clicks' | 'conversions'> = {
  ctr: 'impressions',
  cvr: 'clicks',
  cpa: 'conversions',
  roas: 'conversions',
  cpc: 'clicks',
};

/**
 * Per-day variance of ln(X/Y) for one day, from recent days (cluster delta method):
 *   v_day = n * n/(n-1) * sum_d (x_d/X - y_d/Y)^2 = (s_xx/xbar^2 - 2 s_xy/(xbar ybar) + s_yy/ybar^2).
 */
export function dailyLogVarianceFromRecent(metric: AbMetric, days: readonly VariantTotals[]): number {
  const spec = METRICS[metric];
  const n = days.length;
  if (n < 2) return Number.NaN;
  let X = 0;
  let Y = 0;
  for (const d of days) {
    X += spec.num(d);
    Y += spec.den(d);
  }
  if (!(X > 0 && Y > 0)) return Number.NaN;
  let ss = 0;
  for (const d of days) ss += (spec.num(d) / X - spec.den(d) / Y) ** 2;
  return n * (n / (n - 1)) * ss;
}

export function sampleSize(input: SampleSizeInput): SampleSizeResult | { computable: false; message: string } {
  const { metric } = input;
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const unit = UNIT[metric];
  const daily = input.dailyPerVariant;
  const unitsPerDay = daily[unit];
  const theta = Math.log1p(Math.abs(input.mde));
  if (!(theta > 0) || !(unitsPerDay > 0)) return { computable: false, message: 'Needs a positive minimum detectable effect and daily traffic in the metric’s unit.' };
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);

  // Variance of ln(metric) per unit (per impression, click or conversion) for A and for B.
  let unitVarA: number;
  let unitVarB: number;
  let source: 'model' | 'recent_days' = 'model';
  if (metric === 'ctr' || metric === 'cvr') {
    const p1 = input.baseline ?? METRICS[metric].num(daily) / METRICS[metric].den(daily);
    const p2 = p1 * (1 + Math.abs(input.mde));
    if (!(p1 > 0 && p2 < 1)) return { computable: false, message: 'The baseline rate must be above 0 and the rate under the effect below 100 %.' };
    // Var(ln p_hat) = (1 - p) / (n p) for a binomial proportion over n units.
    unitVarA = (1 - p1) / p1;
    unitVarB = (1 - p2) / p2;
    // Over-dispersion from recent days scales both (never below the binomial).
    if (input.recentDaily && input.recentDaily.length >= 7) {
      const vDay = dailyLogVarianceFromRecent(metric, input.recentDaily);
      const k = Number.isFinite(vDay) ? Math.max(1, (vDay * unitsPerDay) / unitVarA) : 1;
      unitVarA *= k;
      unitVarB *= k;
      if (Number.isFinite(vDay)) source = 'recent_days';
    }
  } else {
    // Per conversion (CPA), per click (CPC): Poisson count, spend set by the budget -> 1.
    // ROAS: compound Poisson value -> 1 + cv^2 per conversion.
    const cv = input.valueCv ?? 1;
    unitVarA = metric === 'roas' ? 1 + cv * cv : 1;
    unitVarB = unitVarA;
    if (input.recentDaily && input.recentDaily.length >= 7) {
      const vDay = dailyLogVarianceFromRecent(metric, input.recentDaily);
      // Never below the count model: a short history can understate the spread.
      const modelDay = 1 / unitsPerDay;
      if (Number.isFinite(vDay)) {
        unitVarA = Math.max(vDay, modelDay) * unitsPerDay;
        unitVarB = unitVarA;
        source = 'recent_days';
      }
    }
  }
  // Fixed horizon: (theta / z)^2 = (vA + vB) / n  ->  n = z^2 (vA + vB) / theta^2.
  const c = unitVarA + unitVarB;
  const perVariant = (z * z * c) / (theta * theta);
  const daysForPower = perVariant / unitsPerDay;
  // An effect so small (or a variance so large) that the sample overflows has no plan; the search
  // below would never end on it.
  if (!(Number.isFinite(perVariant) && perVariant > 0 && Number.isFinite(daysForPower))) {
    return { computable: false, message: 'The minimum detectable effect is too small for any sample to detect it.' };
  }

  // Sequential: smallest n with theta - z_power * sqrt(V) >= half-width of the confidence sequence at V = c / n,
  // V widened as the analysis widens a variance estimated from that many days (smallSampleFactor), so
  // that the plan is made on the interval the page will actually draw.
  const tau2 = mixingVariance(input.mde);
  const zPow = normalQuantile(power);
  const ok = (n: number) => {
    const days = Math.max(MIN_SAMPLE.days, n / unitsPerDay);
    const v = (c / n) * smallSampleFactor(days - 1, alpha);
    return theta - zPow * Math.sqrt(v) >= sequential(0, v, tau2, alpha).halfWidth;
  };
  let lo = perVariant;
  let hi = perVariant * 2;
  while (!ok(hi)) {
    hi *= 2;
    if (!Number.isFinite(hi)) return { computable: false, message: 'The minimum detectable effect is too small for any sample to detect it.' };
  }
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  const sequentialDays = hi / unitsPerDay;

  const sampleUnit = METRICS[metric].sampleUnit;
  const perDaySampleUnit = daily[sampleUnit];
  const daysToMin = perDaySampleUnit > 0 ? MIN_SAMPLE[sampleUnit] / perDaySampleUnit : Infinity;
  const daysNeeded = Math.ceil(Math.max(sequentialDays, daysToMin, MIN_SAMPLE.days));
  return {
    unit,
    perVariant: Math.ceil(perVariant),
    daysForPower: Math.ceil(daysForPower),
    sequentialDays: Math.ceil(sequentialDays),
    daysNeeded,
    varianceSource: source,
    dailyLogVariance: (unitVarA / unitsPerDay),
  };
}
