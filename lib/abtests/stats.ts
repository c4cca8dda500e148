// The statistics core of an A/B test between two variants (A = control, B = challenger):
// relative lift with a 95 % interval, a Bayesian chance-to-beat, an always-valid (sequential)
// interval for daily peeking, the sample-ratio check and the decision. Pure functions over
// totals (and optionally per-day totals); the model of each number is in docs/ab-tests.md.

export type AbMetric = 'ctr' | 'cvr' | 'cpa' | 'roas' | 'cpc';

export interface VariantTotals {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: number;
  conversionValue: number;
}

export interface DailyTotals extends VariantTotals {
  /** ISO day (yyyy-mm-dd); the days of A and B are paired on it. */
  day: string;
}

export interface VariantData {
  totals: VariantTotals;
  /** Per-day totals over the test so far; when given (and enough days), variances come from them. */
  daily?: readonly DailyTotals[];
}

interface MetricSpec {
  label: string;
  /** +1 when higher is better, -1 when lower is better. */
  sign: 1 | -1;
  num: (t: VariantTotals) => number;
  den: (t: VariantTotals) => number;
  numName: string;
  denName: string;
  /** Count that gates the minimum sample, and its threshold per variant. */
  sampleUnit: 'clicks' | 'conversions';
}

export const METRICS: Record<AbMetric, MetricSpec> = {
  ctr: { label: 'CTR', sign: 1, num: (t) => t.clicks, den: (t) => t.impressions, numName: 'clicks', denName: 'impressions', sampleUnit: 'clicks' },
  cvr: { label: 'conversion rate', sign: 1, num: (t) => t.conversions, den: (t) => t.clicks, numName: 'conversions', denName: 'clicks', sampleUnit: 'conversions' },
  cpa: { label: 'CPA', sign: -1, num: (t) => t.spend, den: (t) => t.conversions, numName: 'spend', denName: 'conversions', sampleUnit: 'conversions' },
  roas: { label: 'ROAS', sign: 1, num: (t) => t.conversionValue, den: (t) => t.spend, numName: 'conversion value', denName: 'spend', sampleUnit: 'conversions' },
  cpc: { label: 'CPC', sign: -1, num: (t) => t.spend, den: (t) => t.clicks, numName: 'spend', denName: 'clicks', sampleUnit: 'clicks' },
};

/**
 * Minimum sample per variant before any winner: 100 conversions for the conversion metrics
 * (a Poisson count of 100 has a 10 % relative s.e., so the log-normal approximation of the lift
 * is good and a single lucky day cannot carry it), 1,000 clicks for CTR and CPC (same 3 %-level
 * relative s.e. argument for the much cheaper click); and 7 days, one full weekday cycle, so a
 * weekday mix or a launch-day novelty cannot be the result.
 */
export interface MinSample {
  conversions: number;
  clicks: number;
  days: number;
}

export const MIN_SAMPLE: Readonly<MinSample> = { conversions: 100, clicks: 1000, days: 7 };

export interface AbOptions {
  /** Two-sided level of every interval and test (default 0.05). */
  alpha?: number;
  /** Minimum detectable relative effect (default 0.10); sets the mixing variance of the sequential test. */
  mde?: number;
  /** Variance inflation over Poisson/binomial for the totals-only model (default 1: pure sampling noise). */
  dispersion?: number;
  /** Coefficient of variation of value per conversion for ROAS in the totals-only model (default 1). */
  valueCv?: number;
  /** Days of per-day totals needed to use the per-day (cluster) variance (default 7). */
  minDaysForPerDay?: number;
  /** Planned share of B in the allocation unit (default 0.5). */
  plannedShareB?: number;
  /** What the test splits: the audience/traffic (impressions) or the budget (spend). Default impressions. */
  allocationUnit?: 'impressions' | 'spend';
  /** Minimum sample; defaults to MIN_SAMPLE. */
  minSample?: MinSample;
}

// ---------------------------------------------------------------------------------------------
// Normal distribution

const SQRT_2PI = Math.sqrt(2 * Math.PI);

export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/** Q(x) = 1 - Phi(x) for x >= 0, with relative accuracy in the tail. */
function upperTail(x: number): number {
  if (x < 3) {
    // Marsaglia (2004): Phi(x) = 1/2 + phi(x) (x + x^3/3 + x^5/(3*5) + ...)
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let i = 3; i < 500; i += 2) {
      term *= x2 / i;
      sum += term;
      if (term <= 1e-17 * sum) break;
    }
    return 0.5 - normalPdf(x) * sum;
  }
  // Laplace's continued fraction for the Mills ratio: Q(x) = phi(x) / (x + 1/(x + 2/(x + 3/(x + ...))))
  let t = x;
  for (let k = 200; k >= 1; k--) t = x + k / t;
  return normalPdf(x) / t;
}

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  return x >= 0 ? 1 - upperTail(x) : upperTail(-x);
}

/** Standard normal quantile: Acklam's rational approximation, then one Halley step on normalCdf. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return Number.NaN;
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow || p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(p < pLow ? p : 1 - p));
    const v = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
    x = p < pLow ? v : -v;
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley refinement: e = Phi(x) - p, u = e / phi(x)
  const e = normalCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/** Upper tail of chi-squared with integer df, in closed form (even: Poisson sum; odd: normal tail plus sum). */
export function chiSquaredSurvival(x: number, df: number): number {
  if (!(x > 0)) return 1;
  if (!Number.isInteger(df) || df < 1) throw new RangeError('df must be a positive integer');
  const h = x / 2;
  if (df % 2 === 0) {
    // Q = e^{-x/2} sum_{i < df/2} (x/2)^i / i!
    let term = Math.exp(-h);
    let sum = term;
    for (let i = 1; i < df / 2; i++) {
      term *= h / i;
      sum += term;
    }
    return Math.min(1, sum);
  }
  // Q = 2 Q_N(sqrt x) + 2 phi(sqrt x) sum_{i=1}^{(df-1)/2} x^{(2i-1)/2} / (1*3*...*(2i-1))
  const s = Math.sqrt(x);
  let term = s;
  let sum = 0;
  for (let i = 1; i <= (df - 1) / 2; i++) {
    if (i > 1) term *= x / (2 * i - 1);
    sum += term;
  }
  return Math.min(1, 2 * upperTail(s) + 2 * normalPdf(s) * sum);
}

/**
 * Student t quantile by the Cornish-Fisher expansion in 1/nu (Abramowitz & Stegun 26.7.5):
 *   t ~ z + g1/nu + g2/nu^2 + g3/nu^3 + g4/nu^4; good to 1e-3 from nu = 5 at the 97.5 % point.
 */
export function studentTQuantile(p: number, nu: number): number {
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  return z + g1 / nu + g2 / nu ** 2 + g3 / nu ** 3 + g4 / nu ** 4;
}

/**
 * A variance estimated from n days has n - 1 degrees of freedom; using it as if known makes a
 * week-old test over-confident. The variance is scaled by (t_{nu, 1-alpha/2} / z_{1-alpha/2})^2, so a
 * normal read-out at level alpha has the width of the t interval (x1.56 at 7 days, x1.10 at 28).
 */
export function smallSampleFactor(nu: number, alpha = 0.05): number {
  const z = normalQuantile(1 - alpha / 2);
  const t = studentTQuantile(1 - alpha / 2, nu);
  return (t / z) ** 2;
}

// ---------------------------------------------------------------------------------------------
// Lift and its variance

export type NotComputableReason = 'zero_denominator' | 'zero_numerator' | 'no_variance' | 'invalid_input' | 'daily_totals_mismatch';

export interface NotComputable {
  computable: false;
  reason: NotComputableReason;
  message: string;
}

export interface LiftEstimate {
  computable: true;
  metric: AbMetric;
  valueA: number;
  valueB: number;
  /** ln(metric_B / metric_A). */
  logLift: number;
  /** Variance of logLift (delta method). */
  variance: number;
  se: number;
  /** 'per_day': variances and covariances from the paired daily totals; 'totals': the count model. */
  varianceModel: 'per_day' | 'totals';
  /** Days of data used for per-day variance (0 in the totals model); the per-day variance is widened by smallSampleFactor(days - 1). */
  days: number;
}

/**
 * Delta method on the log of a ratio of sums X/Y:
 *   Var(ln X/Y) ~ Var(X)/X^2 + Var(Y)/Y^2 - 2 Cov(X,Y)/(X Y).
 */
export function logRatioVariance(x: number, y: number, varX: number, varY: number, covXY: number): number {
  return varX / (x * x) + varY / (y * y) - (2 * covXY) / (x * y);
}

/**
 * Variance of ln(metric) of one variant under the totals-only model, by the formula above:
 *  - CTR, conversion rate: numerator binomial given the denominator, Var(X) = phi X (1 - p), Var(Y) = 0.
 *  - CPA, CPC: spend is set by the budget (Var = 0); conversions/clicks Poisson, Var = phi N.
 *  - ROAS: spend fixed; value compound Poisson over conversions, Var(V) = phi N E[v^2]
 *    = phi N vbar^2 (1 + cv^2), so Var(ln V) = phi (1 + cv^2) / N.
 */
export function totalsModelVariance(metric: AbMetric, t: VariantTotals, dispersion = 1, valueCv = 1): number {
  const spec = METRICS[metric];
  const x = spec.num(t);
  const y = spec.den(t);
  switch (metric) {
    case 'ctr':
    case 'cvr':
      return logRatioVariance(x, y, dispersion * x * (1 - x / y), 0, 0);
    case 'cpa':
      return logRatioVariance(x, y, 0, dispersion * y, 0);
    case 'cpc':
      return logRatioVariance(x, y, 0, dispersion * y, 0);
    case 'roas': {
      const n = t.conversions;
      const vbar = x / n;
      return logRatioVariance(x, y, dispersion * n * vbar * vbar * (1 + valueCv * valueCv), 0, 0);
    }
  }
}

/** The floor under the per-day variance: pure sampling noise (dispersion 1, no basket spread). */
function samplingFloor(metric: AbMetric, t: VariantTotals): number {
  return totalsModelVariance(metric, t, 1, 0);
}

function sumDaily(daily: readonly DailyTotals[]): VariantTotals {
  const s: VariantTotals = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 };
  for (const d of daily) {
    s.impressions += d.impressions;
    s.clicks += d.clicks;
    s.conversions += d.conversions;
    s.spend += d.spend;
    s.conversionValue += d.conversionValue;
  }
  return s;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)) + 0.01;
}

function notComputable(reason: NotComputableReason, message: string): NotComputable {
  return { computable: false, reason, message };
}

function validTotals(t: VariantTotals): boolean {
  return [t.impressions, t.clicks, t.conversions, t.spend, t.conversionValue].every((v) => Number.isFinite(v) && v >= 0);
}

/**
 * Paired per-day ("cluster") delta method. With days d = 1..n as the independent units and
 * u_d = x_d/X - y_d/Y the linearised contribution of day d to ln(X/Y) of a variant,
 *   Var(ln lift) ~ n/(n-1) sum_d (uB_d - uA_d)^2,
 * which is g' S g / n for the 4x4 sample covariance S of (xB, yB, xA, yA) per day and
 * g = (1/xbarB, -1/ybarB, -1/xbarA, 1/ybarA). It carries each variant's own variance and
 * numerator/denominator covariance, and the covariance between A and B on the same day (a
 * market-wide shock moves both, so it cancels in the lift).
 */
export function perDayLogLiftVariance(metric: AbMetric, dailyA: readonly DailyTotals[], dailyB: readonly DailyTotals[]): { variance: number; days: number } {
  const spec = METRICS[metric];
  const zero: VariantTotals = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 };
  const byDay = new Map<string, { a: VariantTotals; b: VariantTotals }>();
  for (const d of dailyA) byDay.set(d.day, { a: d, b: byDay.get(d.day)?.b ?? zero });
  for (const d of dailyB) byDay.set(d.day, { a: byDay.get(d.day)?.a ?? zero, b: d });
  const tA = sumDaily(dailyA);
  const tB = sumDaily(dailyB);
  const xA = spec.num(tA);
  const yA = spec.den(tA);
  const xB = spec.num(tB);
  const yB = spec.den(tB);
  const n = byDay.size;
  if (n < 2) return { variance: Number.NaN, days: n };
  let ss = 0;
  for (const { a, b } of byDay.values()) {
    const uA = spec.num(a) / xA - spec.den(a) / yA;
    const uB = spec.num(b) / xB - spec.den(b) / yB;
    ss += (uB - uA) ** 2;
  }
  return { variance: (n / (n - 1)) * ss, days: n };
}

/**
 * What the estimate and the decision need of the two variants, however they were summed: the totals,
 * how many daily rows each variant has (null: none given), the first problem with those rows (a day
 * with a negative or missing figure, rows that do not add up to the totals), and the per-day
 * variance, computed only when it is needed (null unless both variants have daily rows).
 * estimateLift and analyzeAbTest make it from the rows (prepareVariants); the look series of
 * lib/abtests/model.ts makes it from running sums, so every look is this one function's result.
 */
export interface PreparedVariants {
  totalsA: VariantTotals;
  totalsB: VariantTotals;
  daysA: number | null;
  daysB: number | null;
  dailyProblem: NotComputable | null;
  perDay: (() => { variance: number; days: number }) | null;
}

const TOTAL_KEYS = ['impressions', 'clicks', 'conversions', 'spend', 'conversionValue'] as const;

/** The variants' data as the estimate reads it (see PreparedVariants). */
export function prepareVariants(metric: AbMetric, a: VariantData, b: VariantData): PreparedVariants {
  let dailyProblem: NotComputable | null = null;
  for (const [name, v] of [['A', a], ['B', b]] as const) {
    if (dailyProblem || !v.daily || v.daily.length === 0) continue;
    if (!v.daily.every(validTotals)) dailyProblem = notComputable('invalid_input', `Variant ${name} has a day with a negative or missing figure.`);
    else {
      const s = sumDaily(v.daily);
      if (!TOTAL_KEYS.every((k) => close(s[k], v.totals[k]))) dailyProblem = notComputable('daily_totals_mismatch', `Variant ${name}'s daily rows do not add up to its totals.`);
    }
  }
  return {
    totalsA: a.totals,
    totalsB: b.totals,
    daysA: a.daily ? a.daily.length : null,
    daysB: b.daily ? b.daily.length : null,
    dailyProblem,
    perDay: a.daily && b.daily ? () => perDayLogLiftVariance(metric, a.daily!, b.daily!) : null,
  };
}

/** Log lift of B over A and its variance, or why it cannot be computed. */
export function estimateLift(metric: AbMetric, a: VariantData, b: VariantData, options: AbOptions = {}): LiftEstimate | NotComputable {
  return estimatePrepared(metric, prepareVariants(metric, a, b), options);
}

/** estimateLift on prepared variants. */
export function estimatePrepared(metric: AbMetric, p: PreparedVariants, options: AbOptions = {}): LiftEstimate | NotComputable {
  const spec = METRICS[metric];
  const dispersion = options.dispersion ?? 1;
  const valueCv = options.valueCv ?? 1;
  const minDays = options.minDaysForPerDay ?? 7;
  const ta = p.totalsA;
  const tb = p.totalsB;
  if (!validTotals(ta) || !validTotals(tb)) return notComputable('invalid_input', 'Totals must be finite, non-negative numbers.');
  if (p.dailyProblem) return p.dailyProblem;
  for (const [name, t] of [['A', ta], ['B', tb]] as const) {
    const y = spec.den(t);
    const x = spec.num(t);
    if (y <= 0) return notComputable('zero_denominator', `Variant ${name} has no ${spec.denName} yet, so its ${spec.label} is not defined.`);
    if (x <= 0) return notComputable('zero_numerator', `Variant ${name} has no ${spec.numName} yet, so the relative lift of its ${spec.label} is not defined.`);
    // A ratio metric also needs the count under it (ROAS: conversions, for the value's variance).
    if (metric === 'roas' && t.conversions <= 0) return notComputable('zero_numerator', `Variant ${name} has no conversions yet.`);
    if ((metric === 'ctr' || metric === 'cvr') && x >= y) return notComputable('no_variance', `Variant ${name}'s ${spec.label} is 100 %, which has no sampling variance.`);
  }
  const valueA = spec.num(ta) / spec.den(ta);
  const valueB = spec.num(tb) / spec.den(tb);
  const logLift = Math.log(valueB / valueA);
  const floor = samplingFloor(metric, ta) + samplingFloor(metric, tb);

  let variance: number;
  let model: 'per_day' | 'totals' = 'totals';
  let days = 0;
  const pd = p.perDay ? p.perDay() : null;
  if (pd && pd.days >= minDays && Number.isFinite(pd.variance)) {
    // A week of days estimates a variance poorly: widen by the t factor, and never go below pure sampling noise.
    variance = Math.max(pd.variance * smallSampleFactor(pd.days - 1, options.alpha ?? 0.05), floor);
    model = 'per_day';
    days = pd.days;
  } else {
    variance = totalsModelVariance(metric, ta, dispersion, valueCv) + totalsModelVariance(metric, tb, dispersion, valueCv);
  }
  if (!(variance > 0) || !Number.isFinite(variance) || !Number.isFinite(logLift)) {
    return notComputable('no_variance', 'The data have no measurable variance, so no interval can be given.');
  }
  return { computable: true, metric, valueA, valueB, logLift, variance, se: Math.sqrt(variance), varianceModel: model, days };
}

// ---------------------------------------------------------------------------------------------
// Frequentist, Bayesian and sequential read-outs of one estimate

export interface Interval {
  lower: number;
  upper: number;
}

/** Fixed-horizon interval for the relative lift: exp(ln lift +- z_{1-alpha/2} se) - 1, and the two-sided p-value. */
export function fixedHorizon(logLift: number, variance: number, alpha = 0.05): { interval: Interval; pValue: number; z: number } {
  const se = Math.sqrt(variance);
  const zc = normalQuantile(1 - alpha / 2);
  const z = logLift / se;
  return {
    interval: { lower: Math.expm1(logLift - zc * se), upper: Math.expm1(logLift + zc * se) },
    pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))),
    z,
  };
}

export interface BayesResult {
  /** P(B is better than A in the metric's good direction). */
  probBBetter: number;
  /** E[(1 - e^delta)^+]: expected relative shortfall, against A's performance, of choosing B. */
  expectedLossB: number;
  /** E[(e^delta - 1)^+]: expected relative gain forgone by keeping A. */
  expectedLossA: number;
}

/**
 * Flat prior, normal approximation: the good-direction log lift delta = sign * ln lift is
 * N(mu, s^2) a posteriori with mu = sign * ln lift and s^2 its variance. Closed forms (log-normal):
 *   P(B better) = Phi(mu / s)
 *   E[(e^delta - 1)^+] = e^{mu + s^2/2} Phi((mu + s^2)/s) - Phi(mu/s)
 *   E[(1 - e^delta)^+] = Phi(-mu/s) - e^{mu + s^2/2} Phi(-(mu + s^2)/s)
 */
export function bayesian(logLift: number, variance: number, sign: 1 | -1): BayesResult {
  const mu = sign * logLift;
  const s = Math.sqrt(variance);
  const m = Math.exp(mu + variance / 2);
  return {
    probBBetter: normalCdf(mu / s),
    expectedLossB: Math.max(0, normalCdf(-mu / s) - m * normalCdf(-(mu + variance) / s)),
    expectedLossA: Math.max(0, m * normalCdf((mu + variance) / s) - normalCdf(mu / s)),
  };
}

/** Mixing variance of the sequential test from the minimum detectable relative effect: tau = |ln(1 + mde)|. */
export function mixingVariance(mde: number): number {
  const t = Math.log1p(Math.abs(mde));
  return t * t;
}

/**
 * Normal-mixture mSPRT (Robbins; Johari et al. 2017; Howard et al. 2021) for theta = ln lift with
 * estimate theta_hat of variance V and mixing prior theta ~ N(theta0, tau^2):
 *   Lambda(theta0) = sqrt(V / (V + tau^2)) exp(tau^2 (theta_hat - theta0)^2 / (2 V (V + tau^2)))
 * The always-valid (1 - alpha) confidence sequence is {theta0 : Lambda(theta0) < 1/alpha}:
 *   theta_hat +- sqrt(V (V + tau^2) / tau^2 * (2 ln(1/alpha) + ln((V + tau^2)/V)))
 * and the always-valid p-value at this look is min(1, 1/Lambda(0)); the loop keeps its running minimum.
 */
export function sequential(logLift: number, variance: number, tau2: number, alpha = 0.05): { halfWidth: number; logInterval: Interval; interval: Interval; pValue: number } {
  const v = variance;
  const halfWidth = Math.sqrt(((v * (v + tau2)) / tau2) * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)));
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * logLift * logLift) / (2 * v * (v + tau2));
  return {
    halfWidth,
    logInterval: { lower: logLift - halfWidth, upper: logLift + halfWidth },
    interval: { lower: Math.expm1(logLift - halfWidth), upper: Math.expm1(logLift + halfWidth) },
    pValue: Math.min(1, Math.exp(-logLambda)),
  };
}

// ---------------------------------------------------------------------------------------------
// Sample-ratio / spend-split check

export interface SplitCheck {
  unit: 'impressions' | 'spend';
  observedShareB: number;
  plannedShareB: number;
  /** Chi-squared p-value (impressions only). */
  pValue: number | null;
  ok: boolean;
  message: string;
}

/** Below this p-value a sample-ratio mismatch is flagged (one in a thousand healthy tests). */
export const SRM_P_THRESHOLD = 0.001;
/** Spend split tolerance, absolute share of B (budgets pace to within a few percent). */
export const SPEND_SPLIT_TOLERANCE = 0.05;

/** Pearson chi-squared goodness of fit of the counts against the planned weights, df = k - 1. */
export function chiSquaredGoodnessOfFit(counts: readonly number[], weights: readonly number[]): { statistic: number; df: number; pValue: number } {
  const total = counts.reduce((s, c) => s + c, 0);
  const wsum = weights.reduce((s, w) => s + w, 0);
  let stat = 0;
  counts.forEach((c, i) => {
    const e = (total * (weights[i] ?? 0)) / wsum;
    stat += ((c - e) * (c - e)) / e;
  });
  const df = counts.length - 1;
  return { statistic: stat, df, pValue: chiSquaredSurvival(stat, df) };
}

/**
 * Impressions are counts of independent units, so the split is tested by chi-squared and flagged
 * under p = 0.001. Spend is money, not a count: a chi-squared on it would depend on the currency
 * unit (cents give 100x the statistic of euros), so the budget split is checked against a tolerance.
 */
export function checkSplit(a: VariantTotals, b: VariantTotals, plannedShareB = 0.5, unit: 'impressions' | 'spend' = 'impressions'): SplitCheck {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const xa = unit === 'impressions' ? a.impressions : a.spend;
  const xb = unit === 'impressions' ? b.impressions : b.spend;
  const total = xa + xb;
  if (!(total > 0) || !(plannedShareB > 0 && plannedShareB < 1)) {
    return { unit, observedShareB: Number.NaN, plannedShareB, pValue: null, ok: true, message: `No ${unit} yet to check the split on.` };
  }
  const share = xb / total;
  if (unit === 'spend') {
    const ok = Math.abs(share - plannedShareB) <= SPEND_SPLIT_TOLERANCE;
    return {
      unit,
      observedShareB: share,
      plannedShareB,
      pValue: null,
      ok,
      message: ok
        ? `B received ${pct(share)} of the spend against a planned ${pct(plannedShareB)}.`
        : `B received ${pct(share)} of the spend against a planned ${pct(plannedShareB)}: the budget split is off by more than ${pct(SPEND_SPLIT_TOLERANCE)}, check the budgets before reading the result.`,
    };
  }
  const { pValue } = chiSquaredGoodnessOfFit([xa, xb], [1 - plannedShareB, plannedShareB]);
  const ok = pValue >= SRM_P_THRESHOLD;
  return {
    unit,
    observedShareB: share,
    plannedShareB,
    pValue,
    ok,
    message: ok
      ? `B received ${pct(share)} of the impressions against a planned ${pct(plannedShareB)}, within chance.`
      : `B received ${pct(share)} of the impressions against a planned ${pct(plannedShareB)}; a split this far off happens by chance less than once in a thousand tests, so the delivery is uneven and the comparison may be biased.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Decision

export type DecisionStatus = 'not_computable' | 'check_split' | 'not_enough_data' | 'winner_a' | 'winner_b' | 'no_winner_yet';

export interface Decision {
  status: DecisionStatus;
  message: string;
}

export interface AbTestAnalysis {
  metric: AbMetric;
  estimate: LiftEstimate | NotComputable;
  fixed: ReturnType<typeof fixedHorizon> | null;
  bayes: BayesResult | null;
  sequential: ReturnType<typeof sequential> | null;
  split: SplitCheck;
  minSampleReached: boolean;
  decision: Decision;
}

/** Whether both variants have the minimum sample (count of the metric's unit, and days). */
export function minimumSampleReached(metric: AbMetric, a: VariantData, b: VariantData, minSample: Readonly<MinSample> = MIN_SAMPLE): { reached: boolean; message: string } {
  return minimumSamplePrepared(metric, a.totals, b.totals, a.daily ? a.daily.length : null, b.daily ? b.daily.length : null, minSample);
}

function minimumSamplePrepared(
  metric: AbMetric,
  ta: VariantTotals,
  tb: VariantTotals,
  daysA: number | null,
  daysB: number | null,
  minSample: Readonly<MinSample>,
): { reached: boolean; message: string } {
  const unit = METRICS[metric].sampleUnit;
  const need = minSample[unit];
  const have = Math.min(ta[unit], tb[unit]);
  const days = Math.min(daysA ?? 0, daysB ?? 0);
  const enoughDays = daysA !== null && daysB !== null ? days >= minSample.days : true;
  if (have < need) return { reached: false, message: `Not enough data yet: ${have.toLocaleString('en')} ${unit} on the smaller variant, ${need.toLocaleString('en')} needed per variant.` };
  if (!enoughDays) return { reached: false, message: `Not enough data yet: ${days} days, ${minSample.days} needed so every weekday is in.` };
  return { reached: true, message: '' };
}

/**
 * Winner only when the always-valid interval excludes 0 AND the minimum sample is reached AND the
 * split is healthy; the daily loop latches the first winner (the guarantee is on the first crossing).
 */
export function analyzeAbTest(metric: AbMetric, a: VariantData, b: VariantData, options: AbOptions = {}): AbTestAnalysis {
  return analyzePrepared(metric, prepareVariants(metric, a, b), options);
}

/** analyzeAbTest on prepared variants (the look series feeds it running sums). */
export function analyzePrepared(metric: AbMetric, p: PreparedVariants, options: AbOptions = {}): AbTestAnalysis {
  const alpha = options.alpha ?? 0.05;
  const spec = METRICS[metric];
  const split = checkSplit(p.totalsA, p.totalsB, options.plannedShareB ?? 0.5, options.allocationUnit ?? 'impressions');
  const estimate = estimatePrepared(metric, p, options);
  const min = minimumSamplePrepared(metric, p.totalsA, p.totalsB, p.daysA, p.daysB, options.minSample ?? MIN_SAMPLE);
  if (!estimate.computable) {
    return { metric, estimate, fixed: null, bayes: null, sequential: null, split, minSampleReached: min.reached, decision: { status: 'not_computable', message: estimate.message } };
  }
  const fixed = fixedHorizon(estimate.logLift, estimate.variance, alpha);
  const bayes = bayesian(estimate.logLift, estimate.variance, spec.sign);
  const seq = sequential(estimate.logLift, estimate.variance, mixingVariance(options.mde ?? 0.1), alpha);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
  const range = `always-valid ${Math.round(100 * (1 - alpha))} % range ${pct(seq.interval.lower)} to ${pct(seq.interval.upper)}`;
  let decision: Decision;
  if (!split.ok) decision = { status: 'check_split', message: split.message };
  else if (!min.reached) decision = { status: 'not_enough_data', message: min.message };
  else if (seq.logInterval.lower > 0 || seq.logInterval.upper < 0) {
    const bBetter = spec.sign * estimate.logLift > 0;
    decision = {
      status: bBetter ? 'winner_b' : 'winner_a',
      message: `${bBetter ? 'B' : 'A'} wins: B's ${spec.label} is ${pct(Math.expm1(estimate.logLift))} against A's (${range}); even checked every day, a difference this large from noise alone happens in under ${Math.round(100 * alpha)} % of tests.`,
    };
  } else {
    decision = { status: 'no_winner_yet', message: `No winner yet: B's ${spec.label} is ${pct(Math.expm1(estimate.logLift))} against A's, but the ${range} still includes no difference.` };
  }
  return { metric, estimate, fixed, bayes, sequential: seq, split, minSampleReached: min.reached, decision };
}
