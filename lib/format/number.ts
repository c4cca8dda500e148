// Numbers and calendar days as the pages write them, in the tenant's currency
// and locale. Pure, shared by server and client components. Intl formatters
// are cached per (locale, options): building one is far dearer than using it.
import { METRIC_INFO, type Metric } from '@/lib/performance/metrics';

/** How a tenant writes numbers: its currency (ISO 4217) and locale (BCP 47). */
export interface NumberStyle {
  currency: string;
  locale: string;
}

const cache = new Map<string, Intl.NumberFormat>();

const FALLBACK_LOCALE = 'en-GB';

/**
 * The locale itself when the runtime knows it, else en-GB. Intl would quietly use the host's default
 * (en-US on a server, anything in a browser), and server and client would then write different text.
 */
export function knownLocale(locale: string): string {
  try {
    return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0 ? locale : FALLBACK_LOCALE;
  } catch {
    return FALLBACK_LOCALE;
  }
}

function nf(requested: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const locale = knownLocale(requested);
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, options);
    } catch {
      // An unknown locale or currency code must not break a page.
      f = new Intl.NumberFormat(FALLBACK_LOCALE, { ...options, currency: options.currency ? 'EUR' : undefined });
    }
    cache.set(key, f);
  }
  return f;
}

const DASH = '—';

const minorUnits = new Map<string, number>();

/** Decimals of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for BHD. */
export function currencyDecimals(currency: string): number {
  let d = minorUnits.get(currency);
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    minorUnits.set(currency, d);
  }
  return d;
}

/** Money in the tenant currency; amounts under 100 keep the currency's minor unit (CPC 0.42 EUR, 42 JPY), larger ones are whole. */
export function formatMoney(value: number | null, style: NumberStyle, opts: { compact?: boolean; decimals?: number } = {}): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  const decimals = opts.decimals ?? (Math.abs(value) < 100 ? currencyDecimals(style.currency) : 0);
  return nf(style.locale, {
    style: 'currency',
    currency: style.currency,
    notation: opts.compact ? 'compact' : 'standard',
    minimumFractionDigits: opts.compact ? 0 : decimals,
    maximumFractionDigits: opts.compact ? 1 : decimals,
  }).format(value);
}

export function formatNumber(value: number | null, style: Pick<NumberStyle, 'locale'>, decimals = 0, compact = false): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  return nf(style.locale, {
    notation: compact ? 'compact' : 'standard',
    minimumFractionDigits: compact ? 0 : decimals,
    maximumFractionDigits: compact ? 1 : decimals,
  }).format(value);
}

/** A fraction (0.0123) as a percent (1.23 %). */
export function formatPercent(fraction: number | null, style: Pick<NumberStyle, 'locale'>, decimals = 2): string {
  if (fraction === null || !Number.isFinite(fraction)) return DASH;
  return nf(style.locale, { style: 'percent', minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(fraction);
}

/** A change already in percent (12.3) as a signed percent (+12.3 %). */
export function formatChange(pct: number | null, style: Pick<NumberStyle, 'locale'>): string {
  if (pct === null || !Number.isFinite(pct)) return DASH;
  const digits = Math.abs(pct) >= 100 ? 0 : 1;
  return nf(style.locale, { style: 'percent', signDisplay: 'exceptZero', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    pct / 100,
  );
}

/** A metric's value the way its card and column write it. */
export function formatMetric(m: Metric, value: number | null, style: NumberStyle, compact = false): string {
  switch (METRIC_INFO[m].kind) {
    case 'money':
      return formatMoney(value, style, { compact });
    case 'count':
      return formatNumber(value, style, value !== null && Math.abs(value) < 100 && !Number.isInteger(value) ? 1 : 0, compact);
    case 'ratio':
      return formatNumber(value, style, 2);
    case 'percent':
      return formatPercent(value, style, 2);
  }
}

const dayCache = new Map<string, Intl.DateTimeFormat>();

/** A calendar day 'YYYY-MM-DD' in the locale ("1 Dec 2026"); days carry no time zone, so none is applied. */
export function formatCalendarDay(day: string, locale: string, opts: { weekday?: boolean; year?: boolean } = {}): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const key = `${locale}|${opts.weekday ? 'w' : ''}${opts.year === false ? '' : 'y'}`;
  let f = dayCache.get(key);
  if (!f) {
    const o: Intl.DateTimeFormatOptions = { timeZone: 'UTC', day: 'numeric', month: 'short' };
    if (opts.year !== false) o.year = 'numeric';
    if (opts.weekday) o.weekday = 'short';
    f = new Intl.DateTimeFormat(knownLocale(locale), o);
    dayCache.set(key, f);
  }
  return f.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
}
