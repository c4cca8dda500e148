// How the board writes an anomaly: its metric and type, how long it has been
// open, the feedback of its kind and the engine's test in plain words (from
// `details`, docs/engine.md). Pure; shared by server and client components.
import { formatMoney, formatNumber, formatPercent, type NumberStyle } from '@/lib/format/number';
import { platformLabel } from '@/lib/performance/metrics';
import { TYPE_LABEL, type AnomalyType } from './schema';

export const METRIC_LABEL: Readonly<Record<string, string>> = {
  conversions: 'Conversions',
  cpa: 'CPA',
  roas: 'ROAS',
  ctr: 'CTR',
  cpc: 'CPC',
  cpm: 'CPM',
  spend: 'Spend',
};

export const metricLabel = (m: string) => METRIC_LABEL[m] ?? m;
export const typeLabel = (t: string) => TYPE_LABEL[t as AnomalyType] ?? t.replace(/_/g, ' ');

const TYPE_PLURAL: Readonly<Record<string, string>> = {
  spike: 'spikes',
  drop: 'drops',
  tracking_loss: 'tracking losses',
  trend_change: 'trend changes',
  outlier: 'outliers',
};

/** "CPC spikes on Meta". */
export function kindLabel(platform: string, metric: string, type: string): string {
  return `${metricLabel(metric)} ${TYPE_PLURAL[type] ?? type} on ${platformLabel(platform)}`;
}

/** "CPC spikes on Meta: 3 of 9 dismissed as not anomalies in the last 90 days", or null when none was dismissed. */
export function feedbackText(f: { platform: string; metric: string; type: string; dismissed: number; total: number } | undefined, days: number): string | null {
  if (!f || f.dismissed === 0) return null;
  return `${kindLabel(f.platform, f.metric, f.type)}: ${f.dismissed} of ${f.total} dismissed as not ${f.total === 1 ? 'an anomaly' : 'anomalies'} in the last ${days} days`;
}

/** A duration in seconds as "45 min", "5 h", "3 d 4 h". */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 3600) return `${Math.max(1, Math.floor(s / 60))} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** A value of the anomaly's metric as its column writes it (money, percent, ratio, count). */
export function metricValue(metric: string, v: number | null, style: NumberStyle): string {
  if (v === null || !Number.isFinite(v)) return '—';
  switch (metric) {
    case 'cpa':
    case 'cpc':
    case 'cpm':
    case 'spend':
      return formatMoney(v, style);
    case 'ctr':
      return formatPercent(v, style, 2);
    case 'roas':
      return formatNumber(v, style, 2);
    default:
      return formatNumber(v, style, Math.abs(v) < 100 && !Number.isInteger(v) ? 1 : 0);
  }
}

/** "the chance of this if nothing changed is under 0.1 %" from a p-value. */
export function chanceText(p: number): string {
  if (!Number.isFinite(p)) return 'the chance is unknown';
  if (p < 0.001) return 'under 0.1 %';
  if (p < 0.01) return `about ${(p * 100).toFixed(1)} %`;
  return `about ${Math.round(p * 100)} %`;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const OBSERVED_WORD: Readonly<Record<string, string>> = {
  conversions: 'conversions',
  clicks: 'clicks',
  conversion_value: 'conversion value',
  spend: 'spend',
};

/**
 * The engine's test in words, from details: what was counted against what was expected given what, the
 * model, and the chance of it under "nothing changed" against the run's cut. Null without a test.
 */
export function testInWords(details: Record<string, unknown>, style: NumberStyle, entityCount?: number): string | null {
  const test = str(details.test);
  const p = num(details.p_value);
  const cut = num(details.p_threshold);
  const expected = num(details.expected);
  const observed = num(details.observed);
  if (!test || p === null) return null;
  const observedMetric = str(details.observed_metric) ?? 'conversions';
  const exposure = str(details.exposure_metric);
  const day = (details.day ?? {}) as Record<string, unknown>;
  const word = OBSERVED_WORD[observedMetric] ?? observedMetric;
  const fmt = (v: number | null) =>
    v === null ? '—' : observedMetric === 'spend' || observedMetric === 'conversion_value' ? formatMoney(v, style) : formatNumber(v, style, v < 100 && !Number.isInteger(v) ? 1 : 0);
  const given =
    exposure === 'spend' && num(day.spend) !== null
      ? ` given its spend of ${formatMoney(num(day.spend), style)}`
      : exposure === 'impressions' && num(day.impressions) !== null
        ? ` given its ${formatNumber(num(day.impressions), style)} impressions`
        : exposure === 'conversions' && num(day.conversions) !== null
          ? ` given its ${formatNumber(num(day.conversions), style)} conversions`
          : '';
  let what: string;
  if (details.scope === 'platform') {
    what = `The platform's campaigns${entityCount ? ` (${entityCount} named)` : ''} got ${fmt(observed ?? 0)} ${word} where their own models expected ${fmt(expected)} given their spend`;
  } else if (test === 'nb_window') {
    const w = num(details.window_days);
    what = `Over the ${w ?? 'last'} days from ${str(details.start_day) ?? 'the window start'}, ${fmt(observed)} ${word} where ${fmt(expected)} were expected${given ? ' given the spend' : ''} at the rate of the 28 days before`;
  } else if (test === 'spend') {
    what = `Spend of ${fmt(observed)} against a usual ${fmt(expected)} for this weekday (log-normal around its own median)`;
  } else if (test === 'value') {
    what = `Conversion value of ${fmt(observed)} where ${fmt(expected)} was expected${given} (a sum of order values with its own basket spread)`;
  } else {
    what = `${fmt(observed)} ${word} where ${fmt(expected)} were expected${given} (negative binomial on its own history)`;
  }
  const chance = `the chance of a day this far off if nothing had changed is ${chanceText(p)}`;
  const bar = cut !== null ? `; the run's cut (Benjamini-Hochberg, all tests of the day) was ${formatPercent(cut, style, cut < 0.001 ? 3 : 2)}` : '';
  return `${what}: ${chance}${bar}.`;
}

/** The score in words: the p-value as a signed normal score. */
export function scoreText(score: number | null): string | null {
  if (score === null || !Number.isFinite(score)) return null;
  const a = Math.abs(score);
  return `Score ${score > 0 ? '+' : ''}${score.toFixed(1)}: the day is as unlikely as a value ${a.toFixed(1)} standard deviations from normal, ${score < 0 ? 'below' : 'above'} it.`;
}
