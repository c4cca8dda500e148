'use client';
// How much traffic, and how many days, the test being planned needs: computed in the browser as the
// buyer picks the ids that carry each variant, from their last 28 days of daily totals
// (lib/abtests/form-data.ts) with lib/abtests/sample-size.ts at 80 % power and a 5 % level, for the
// minimum detectable effect and the split entered. planTest is pure (the tests call it); the panel
// writes its result in words.
import { DB_TO_METRIC, METRIC_LABEL, type DbMetric } from '@/lib/abtests/model';
import { sampleSize } from '@/lib/abtests/sample-size';
import { LEVEL_LABEL, MAX_TEST_DAYS, type EntityLevel } from '@/lib/abtests/schema';
import { METRICS, MIN_SAMPLE, type DailyTotals, type VariantTotals } from '@/lib/abtests/stats';
import { formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import styles from './form.module.css';

/** What is known of a variant's traffic: the recent days of the ids that carry it, or its entered totals. */
export type ArmTraffic =
  | { source: 'ids'; count: number; level: EntityLevel | null; daily: readonly DailyTotals[] }
  | { source: 'entered'; totals: VariantTotals | null };

export interface PlanInput {
  metric: DbMetric;
  /** Fractions: 0.1 for 10 %; NaN when the field does not read as a number. */
  mde: number;
  shareB: number;
  A: ArmTraffic;
  B: ArmTraffic;
  /** Days the recent traffic covers (28). */
  windowDays: number;
}

export type Plan =
  | {
      kind: 'days';
      unit: 'impressions' | 'clicks' | 'conversions';
      /** Units each variant needs (the larger for the smaller share). */
      perA: number;
      perB: number;
      days: number;
      /** Days with data behind the estimate. */
      daysOfData: number;
      varianceSource: 'model' | 'recent_days';
      /** Which ids the traffic is of, and under which assumption. */
      basis: string;
      /** The days cannot be measured for an arm measured elsewhere: the estimate is conditional. */
      caveat: string | null;
    }
  | { kind: 'units'; unit: 'impressions' | 'clicks' | 'conversions'; perA: number; perB: number; reason: string }
  | { kind: 'none'; reason: string };

const ZERO: VariantTotals = { impressions: 0, clicks: 0, conversions: 0, spend: 0, conversionValue: 0 };

const add = (a: VariantTotals, b: VariantTotals): VariantTotals => ({
  impressions: a.impressions + b.impressions,
  clicks: a.clicks + b.clicks,
  conversions: a.conversions + b.conversions,
  spend: a.spend + b.spend,
  conversionValue: a.conversionValue + b.conversionValue,
});

const scale = (t: VariantTotals, k: number): VariantTotals => ({
  impressions: t.impressions * k,
  clicks: t.clicks * k,
  conversions: t.conversions * k,
  spend: t.spend * k,
  conversionValue: t.conversionValue * k,
});

/** The entities' daily totals summed per day, in day order. */
export function mergeDaily(lists: readonly (readonly DailyTotals[])[]): DailyTotals[] {
  const byDay = new Map<string, VariantTotals>();
  for (const list of lists) for (const d of list) byDay.set(d.day, add(byDay.get(d.day) ?? ZERO, d));
  return [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([day, t]) => ({ day, ...t }));
}

const levelWords = (a: ArmTraffic) => (a.source === 'ids' && a.level ? LEVEL_LABEL[a.level] : { one: 'id', many: 'ids' });

/**
 * The sample and the days. The variance formula takes equal variants; with a share s for B, the
 * variance of the lift is v/n_A + v/n_B, the same as two equal variants of 2 s (1 − s) N units each
 * (N the test's traffic), so that is the traffic per variant it is given. A gets n/(2s) and B n/(2(1 − s))
 * units then; the minimum sample is counted on the smaller share.
 */
export function planTest(input: PlanInput): Plan {
  const metric = DB_TO_METRIC[input.metric];
  const spec = METRICS[metric];
  const s = input.shareB;
  if (!(input.mde > 0) || !(s > 0 && s < 1)) return { kind: 'none', reason: 'Enter a minimum detectable effect and a split to estimate the sample.' };
  const k = 2 * s * (1 - s);
  const split = (n: number) => ({ perA: Math.ceil(n / (2 * s)), perB: Math.ceil(n / (2 * (1 - s))) });
  for (const arm of ['A', 'B'] as const) {
    const a = input[arm];
    if (a.source === 'ids' && a.count === 0) return { kind: 'none', reason: `Choose the ids that carry variant ${arm} to estimate the sample and the days.` };
  }
  const ids = (['A', 'B'] as const).filter((arm) => input[arm].source === 'ids');

  if (ids.length === 0) {
    // Both measured elsewhere: the count each variant needs, from the entered rates; no days.
    const a = input.A.source === 'entered' ? input.A.totals : null;
    const b = input.B.source === 'entered' ? input.B.totals : null;
    const seen = add(a ?? ZERO, b ?? ZERO);
    const needsRate = metric === 'ctr' || metric === 'cvr';
    if (needsRate && !(spec.den(seen) > 0 && spec.num(seen) > 0)) {
      return {
        kind: 'none',
        reason: `Both variants are measured elsewhere: enter their ${spec.numName} and ${spec.denName} so far to estimate the sample from their ${spec.label}. The days cannot be estimated: totals entered by hand do not say how much traffic comes each day.`,
      };
    }
    const one = needsRate ? seen : { impressions: 1, clicks: 1, conversions: 1, spend: 1, conversionValue: 1 };
    const r = sampleSize({ metric, mde: input.mde, dailyPerVariant: one });
    if (!('perVariant' in r)) return { kind: 'none', reason: r.message };
    return {
      kind: 'units',
      unit: r.unit,
      ...split(r.perVariant),
      reason: 'The days cannot be estimated: both variants are measured elsewhere, and totals entered by hand do not say how much traffic comes each day.',
    };
  }

  // The test's traffic: every chosen id's days (both arms), or, with one arm measured elsewhere, the
  // carried arm's days scaled up from its share (as if the other arm got its planned share beside it).
  let daily: DailyTotals[];
  let caveat: string | null = null;
  let basis: string;
  const window = `the last ${input.windowDays} days’ traffic`;
  if (ids.length === 2) {
    const a = input.A as Extract<ArmTraffic, { source: 'ids' }>;
    const b = input.B as Extract<ArmTraffic, { source: 'ids' }>;
    daily = mergeDaily([a.daily, b.daily]);
    basis = `at ${window} of the chosen ${levelWords(a).many}`;
  } else {
    const arm = ids[0]!;
    const other = arm === 'A' ? 'B' : 'A';
    const carried = input[arm] as Extract<ArmTraffic, { source: 'ids' }>;
    const share = arm === 'B' ? s : 1 - s;
    daily = mergeDaily([carried.daily]).map((d) => ({ ...scale(d, 1 / share), day: d.day }));
    basis = `at ${window} of variant ${arm}’s ${levelWords(carried)[carried.count === 1 ? 'one' : 'many']}`;
    caveat = `Variant ${other} is measured elsewhere, so its traffic is not in the data: the days assume it gets its planned share beside variant ${arm}.`;
  }
  const n = daily.length;
  if (n === 0) {
    return { kind: 'none', reason: `The chosen ids had no delivery in the last ${input.windowDays} days: the days cannot be estimated from them.` };
  }
  const total = daily.reduce<VariantTotals>((t, d) => add(t, d), ZERO);
  const avg = scale(total, 1 / n);
  const r = sampleSize({
    metric,
    mde: input.mde,
    dailyPerVariant: scale(avg, k),
    recentDaily: n >= 7 ? daily.map((d) => scale(d, k)) : undefined,
  });
  if (!('perVariant' in r)) return { kind: 'none', reason: `${r.message} (${basis.replace(/^at /, 'from ')}).` };
  // The minimum sample on the smaller share: it is reached last.
  const perDaySmall = Math.min(s, 1 - s) * avg[spec.sampleUnit];
  const daysToMin = perDaySmall > 0 ? MIN_SAMPLE[spec.sampleUnit] / perDaySmall : Infinity;
  const days = Math.ceil(Math.max(r.daysNeeded, daysToMin));
  if (!Number.isFinite(days)) return { kind: 'none', reason: `The chosen ids had no ${spec.sampleUnit} in the last ${input.windowDays} days: the days cannot be estimated.` };
  return { kind: 'days', unit: r.unit, ...split(r.perVariant), days, daysOfData: n, varianceSource: r.varianceSource, basis, caveat };
}

/** 21,412 -> 21,400: a plan is not precise to the unit. */
export function roundSignificant(n: number, digits = 3): number {
  if (!(n > 0)) return n;
  const p = 10 ** Math.max(0, Math.floor(Math.log10(n)) + 1 - digits);
  return Math.round(n / p) * p;
}

function countsText(plan: Extract<Plan, { kind: 'days' | 'units' }>, style: NumberStyle): string {
  const a = formatNumber(roundSignificant(plan.perA), style);
  const b = formatNumber(roundSignificant(plan.perB), style);
  return a === b ? `About ${a} ${plan.unit} per variant` : `About ${a} ${plan.unit} for A and ${b} for B`;
}

/** The plan in one sentence, as the panel writes it. */
export function planSentence(plan: Plan, style: NumberStyle): string {
  if (plan.kind === 'none') return plan.reason;
  if (plan.kind === 'units') return `${countsText(plan, style)}. ${plan.reason}`;
  const days = `${formatNumber(plan.days, style)} day${plan.days === 1 ? '' : 's'}`;
  return `${countsText(plan, style)}: ${days} ${plan.basis} (the always-valid test decides sooner when the effect is larger).`;
}

export interface SampleSizePanelProps {
  input: PlanInput;
  style: NumberStyle;
  /** Days between the planned start (today when blank) and end date, both counted; null when not set. */
  plannedDays: number | null;
}

export function SampleSizePanel({ input, style, plannedDays }: SampleSizePanelProps) {
  const plan = planTest(input);
  const mde = Number.isFinite(input.mde) ? formatPercent(input.mde, style, input.mde * 100 < 10 ? 1 : 0) : '—';
  return (
    <section className={styles.panel} aria-labelledby="ab-plan-title" aria-live="polite">
      <h3 id="ab-plan-title">Sample size</h3>
      <p className="muted small">
        To detect a change of {mde} in {input.metric === 'conversion_rate' ? 'the conversion rate' : METRIC_LABEL[input.metric]} with 80 % power at a
        5 % level.
      </p>
      <p className={styles.planLine}>{planSentence(plan, style)}</p>
      {plan.kind === 'days' && plan.caveat ? <p className="muted small">{plan.caveat}</p> : null}
      {plan.kind === 'days' && plan.daysOfData < input.windowDays ? (
        <p className="muted small">
          The chosen ids delivered on {plan.daysOfData} of the last {input.windowDays} days: the traffic per day is their average on those days.
        </p>
      ) : null}
      {plan.kind === 'days' && plan.days > MAX_TEST_DAYS ? (
        <p className="notice notice-warn">
          That is longer than the {MAX_TEST_DAYS} days a test may run: raise the minimum detectable effect, or give the test more traffic.
        </p>
      ) : null}
      {plan.kind === 'days' && plannedDays !== null && plan.days <= MAX_TEST_DAYS ? (
        <p className={plannedDays >= plan.days ? 'muted small' : 'notice notice-warn'}>
          {plannedDays >= plan.days
            ? `The dates planned give ${plannedDays} days: enough at this traffic.`
            : `The dates planned give ${plannedDays} days, ${plan.days - plannedDays} short of the ${plan.days} needed at this traffic: the test may end without a winner.`}
        </p>
      ) : null}
      {plan.kind === 'days' ? (
        <p className="muted small">
          {plan.varianceSource === 'recent_days'
            ? 'The day-to-day spread of these days is counted, so the estimate is not the optimistic count-only one.'
            : 'Fewer than 7 days of data: the estimate uses the count model only and may be optimistic.'}
        </p>
      ) : null}
    </section>
  );
}
