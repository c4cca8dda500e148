// A recommendation's evidence (its jsonb, written by the engine: docs/engine.md)
// in plain words for the queue: the figures it was decided on, and the test it
// passed ("7-day CPA 142 against a limit of 100: the chance this is noise is
// under 1 %"). Pure; shared by server and client components.
import { formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';

export type Evidence = Record<string, unknown>;

/** How a figure of the evidence is written. */
type Kind = 'money' | 'count' | 'ratio' | 'fraction' | 'days';

const FIGURES: readonly (readonly [key: string, label: string, kind: Kind])[] = [
  ['spend_7d', 'Spend, 7 days', 'money'],
  ['conversions_7d', 'Conversions, 7 days', 'count'],
  ['value_7d', 'Conversion value, 7 days', 'money'],
  ['cpa_7d', 'CPA, 7 days', 'money'],
  ['roas_7d', 'ROAS, 7 days', 'ratio'],
  ['cpc_7d', 'CPC, 7 days', 'money'],
  ['ctr_7d', 'CTR, 7 days', 'fraction'],
  ['spend_28d', 'Spend, 28 days', 'money'],
  ['conversions_28d', 'Conversions, 28 days', 'count'],
  ['cpa_28d', 'CPA, 28 days', 'money'],
  ['max_cpa', 'Max CPA', 'money'],
  ['target_roas', 'Target ROAS', 'ratio'],
  ['target_cpa', 'Target CPA', 'money'],
  ['cpa_reference', 'CPA reference', 'money'],
  ['pause_line', 'Pause line (CPA)', 'money'],
  ['line', 'Line tested against', 'ratio'],
  ['cpc_history', 'CPC, own history', 'money'],
  ['ctr_history', 'CTR, own history', 'fraction'],
  ['expected_conversions_at_line', 'Conversions expected at the line', 'count'],
  ['daily_budget', 'Daily budget', 'money'],
  ['recommended_budget', 'Recommended budget', 'money'],
  ['average_daily_spend_7d', 'Average daily spend, 7 days', 'money'],
  ['capped_days_7d', 'Days spend hit the budget (of 7)', 'days'],
  ['days_without_conversion', 'Days without a conversion', 'days'],
  ['spend_without_conversion', 'Spend without a conversion', 'money'],
  ['conversions_lost_per_week', 'Conversions lost per week if paused', 'count'],
  ['value_lost_per_week', 'Value lost per week if paused', 'money'],
  ['money_per_week', 'Money at stake per week', 'money'],
];

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function write(kind: Kind, v: number, style: NumberStyle): string {
  switch (kind) {
    case 'money':
      return formatMoney(v, style);
    case 'count':
      return formatNumber(v, style, Number.isInteger(v) ? 0 : 1);
    case 'ratio':
      return formatNumber(v, style, 2);
    case 'fraction':
      return formatPercent(v, style, 2);
    case 'days':
      return formatNumber(v, style, 0);
  }
}

/**
 * What the line a rule tested against measures, by type: a CPA or CPC is money, a CTR a fraction, a CPM money,
 * a budget rule's line a ROAS (a ratio) unless it judged CPA against a target CPA.
 */
function lineKind(type: string | undefined, e: Evidence): Kind {
  switch (type) {
    case 'pause':
    case 'bid_adjustment':
    case 'audience':
    case 'timing':
      return 'money';
    case 'creative':
      return 'fraction';
    case 'budget_increase':
    case 'budget_decrease':
      return num(e.target_roas) === null && num(e.target_cpa) !== null ? 'money' : 'ratio';
    default:
      return 'ratio';
  }
}

/** The figures present in the evidence, labelled and written in the tenant's currency and locale; type says what its line measures. */
export function evidenceFigures(e: Evidence, style: NumberStyle, type?: string): { key: string; label: string; value: string }[] {
  const out: { key: string; label: string; value: string }[] = [];
  for (const [key, label, kind] of FIGURES) {
    const v = num(e[key]);
    if (v !== null) out.push({ key, label, value: write(key === 'line' ? lineKind(type, e) : kind, v, style) });
  }
  return out;
}

/** The chance that noise alone gives data at least this far beyond the line, in words. */
export function chanceInWords(p: number | null): string {
  if (p === null || p < 0 || p > 1) return 'not computed';
  if (p < 0.0001) return 'under 0.01 %';
  if (p < 0.001) return 'under 0.1 %';
  if (p < 0.01) return 'under 1 %';
  if (p < 0.05) return `about ${Math.round(p * 100)} %`;
  return `${Math.round(p * 100)} %`;
}

const TESTS: Readonly<Record<string, string>> = {
  nb_lower: 'a count test (negative binomial) of conversions against what the line allows',
  nb_upper: 'a count test (negative binomial) of conversions against what the line allows',
  value_lower: 'a test of conversion value (log-normal sum of orders) against the line',
  value_upper: 'a test of conversion value (log-normal sum of orders) against the line',
  chi_square: 'a chi-square test of conversions per spend across weekdays, corrected for day-to-day spread',
  none: 'no statistical test (nothing to compare with: a rule on spend alone)',
};

/** One sentence: the headline figure against its line, and the chance it is noise. */
export function testInWords(type: string, e: Evidence, style: NumberStyle): string {
  const p = num(e.p_value);
  const cut = num(e.p_threshold);
  const chance = `the chance this is noise is ${chanceInWords(p)}`;
  const passed = p !== null && cut !== null ? (p <= cut ? '' : ' (above the cut of this run: shown, not acted on)') : '';
  const cpa = num(e.cpa_7d);
  const roas = num(e.roas_7d);
  let head: string | null = null;
  if (type === 'pause' || type === 'bid_adjustment') {
    const line = num(e.pause_line) ?? num(e.max_cpa) ?? num(e.line);
    if (cpa !== null && line !== null) head = `7-day CPA ${formatMoney(cpa, style)} against a limit of ${formatMoney(line, style)}`;
    else if (cpa === null && num(e.conversions_7d) === 0 && num(e.spend_7d) !== null)
      head = `${formatMoney(num(e.spend_7d), style)} spent in 7 days without a conversion`;
  } else if (type === 'budget_increase' || type === 'budget_decrease') {
    const target = num(e.target_roas);
    if (roas !== null && target !== null) head = `7-day ROAS ${formatNumber(roas, style, 2)} against a target of ${formatNumber(target, style, 2)}`;
    else if (cpa !== null && num(e.target_cpa) !== null) head = `7-day CPA ${formatMoney(cpa, style)} against a target of ${formatMoney(num(e.target_cpa), style)}`;
  } else if (type === 'creative') {
    const ctr = num(e.ctr_7d);
    const h = num(e.ctr_history);
    if (ctr !== null && h !== null) head = `7-day CTR ${formatPercent(ctr, style)} against ${formatPercent(h, style)} in its own history`;
  }
  const hypothesis = typeof e.null_hypothesis === 'string' ? ` Tested: is "${e.null_hypothesis}" still believable?` : '';
  const how = typeof e.test === 'string' && TESTS[e.test] ? ` (${TESTS[e.test]})` : '';
  return `${head ?? 'The figures below'}: ${chance}${passed}.${hypothesis}${how}`;
}
