// Month pacing of a campaign's daily budget: where the month is going at the
// current rate, against what the daily budget allows, inside a tolerance band
// that narrows as the month runs out. Pure (no I/O): the page and the tests
// compute every figure with these functions. The model is written out in
// docs/budgets.md; in short, the month paced is the month of the tenant's
// last complete day (yesterday): with d the daily budget, D the days of that
// month, e its complete days (the day of month of yesterday, 1 .. D) and
// r = D - e the days left (today included; 0 once the month is closed):
//
//   month budget   B = d × (days from the campaign's start in the month to its end)   (D for a campaign older than the month)
//   rate           = spend of the last 7 days / 7 (fewer days for a younger campaign)
//   projection     P = month-to-date spend + rate × r      (the month's actual spend once it is closed)
//   band           h = 0.05 + 0.25 × r / D        (about ±29 % on the 2nd, ±5 % for a closed month)
//   state          over when P > B × (1 + h), under when P < B × (1 - h), on track otherwise
//
// On the 1st, yesterday is the last day of the previous month: that month is
// shown closed, its spend against its budget, judged within ±5 %.
import { formatCalendarDay, formatMoney, formatPercent, knownLocale, type NumberStyle } from '@/lib/format/number';

/** Days behind the spend rate of the projection. */
export const RATE_DAYS = 7;
/** The band's half-width at the end of the month, as a share of the month budget. */
export const BAND_BASE = 0.05;
/** What the band adds at the start of the month (times the share of the month still to come). */
export const BAND_SLOPE = 0.25;

const DAY_MS = 86_400_000;

function epochDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`not a day: ${day}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== day) throw new Error(`not a day: ${day}`);
  return ms / DAY_MS;
}

const dayOf = (epoch: number) => new Date(epoch * DAY_MS).toISOString().slice(0, 10);

export function shiftDay(day: string, n: number): string {
  return dayOf(epochDay(day) + n);
}

/** Days from `from` to `to`, both included (0 when `to` is before `from`). */
export function daysBetween(from: string, to: string): number {
  return Math.max(0, epochDay(to) - epochDay(from) + 1);
}

/** 28, 29, 30 or 31: the Gregorian calendar (February has 29 days in years divisible by 4, except centuries not divisible by 400). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Money to the cent, half away from zero (as numeric rounding does). */
export function roundCents(v: number): number {
  return (Math.sign(v) * Math.round(Math.abs(v) * 100 + 1e-9)) / 100;
}

/** The month paced as of the tenant's today (a day in its own time zone): the month of its last complete day. */
export interface MonthCalendar {
  /** The tenant's today: the first day not complete yet. */
  today: string;
  /** The last complete day: every spend figure ends here, and the month paced is the one it falls in. */
  yesterday: string;
  monthStart: string;
  monthEnd: string;
  daysInMonth: number;
  /** Complete days of the month (through yesterday): 1 on the 2nd, D once the month is closed (on the 1st of the next). */
  elapsedDays: number;
  /** Days of the month still to spend, today included: D - 1 on the 2nd, 1 on the last day, 0 once closed. */
  remainingDays: number;
  /** remainingDays / daysInMonth. */
  remainingShare: number;
  /** Every day of the month is complete (today is the 1st of the next): its spend is final, judged against its budget. */
  closed: boolean;
  /** First day of the 7-day rate window (it may fall in the previous month). */
  rateFrom: string;
  /** The band's half-width today, a share of the month budget. */
  band: number;
}

export function toleranceBand(remainingShare: number): number {
  return BAND_BASE + BAND_SLOPE * remainingShare;
}

export function monthCalendar(today: string): MonthCalendar {
  const yesterday = shiftDay(today, -1);
  const year = Number(yesterday.slice(0, 4));
  const month = Number(yesterday.slice(5, 7));
  const d = daysInMonth(year, month);
  const monthStart = `${yesterday.slice(0, 8)}01`;
  const monthEnd = `${yesterday.slice(0, 8)}${String(d).padStart(2, '0')}`;
  const elapsedDays = Number(yesterday.slice(8, 10));
  const remainingDays = d - elapsedDays;
  const remainingShare = remainingDays / d;
  return {
    today,
    yesterday,
    monthStart,
    monthEnd,
    daysInMonth: d,
    elapsedDays,
    remainingDays,
    remainingShare,
    closed: remainingDays === 0,
    rateFrom: shiftDay(yesterday, -(RATE_DAYS - 1)),
    band: toleranceBand(remainingShare),
  };
}

export type AllocationStatus = 'active' | 'paused' | 'ended';
export type PaceState = 'on_track' | 'under' | 'over' | 'not_paced';
export type NotPacedReason = 'paused' | 'ended' | 'no_metrics';

/** One campaign's spend as the page reads it (campaign-level rows of ads.metrics_daily, through yesterday). */
export interface PacingInput {
  dailyBudget: number;
  status: AllocationStatus;
  /** Spend on the tenant's yesterday. */
  yesterdaySpend: number;
  /** Spend from the 1st of the month through yesterday (the whole month once it is closed). */
  mtdSpend: number;
  /** Spend from calendar.rateFrom through yesterday. */
  rateSpend: number;
  /** The campaign's first day with a campaign-level row, on or before yesterday; null when it has none. */
  firstDay: string | null;
}

export interface Pacing {
  state: PaceState;
  /** Why a campaign is not paced; null when it is. */
  reason: NotPacedReason | null;
  dailyBudget: number;
  /** Days of the month the budget covers: the whole month, or from the campaign's first day when that falls in this month. */
  budgetDays: number;
  /** From the first delivery in this month, or null when the campaign delivered before the month began (or never). */
  startedOn: string | null;
  monthBudget: number;
  /** What the budget allowed through yesterday (d × the budget's days so far). */
  toDateBudget: number;
  yesterdaySpend: number;
  /** yesterdaySpend / dailyBudget; null for a zero budget. */
  yesterdayRatio: number | null;
  mtdSpend: number;
  /** Average daily spend of the rate window; null without any metrics. */
  rate: number | null;
  /** Days behind the rate: 7, or fewer for a campaign younger than a week. */
  rateDays: number;
  /**
   * Month-end spend at the rate (the month's spend once it is closed); for a paused or ended allocation its spend so far (it
   * is not expected to spend more); null without metrics.
   */
  projected: number | null;
  /** projected / monthBudget; null for a zero budget or no projection. */
  ratio: number | null;
  /** The band's half-width (share of the month budget) and its bounds in money. */
  band: number;
  low: number;
  high: number;
}

/** Over, under or on track: the projection against the band around the month budget (bounds included, in cents). */
export function judge(projected: number, low: number, high: number): 'on_track' | 'under' | 'over' {
  const p = Math.round(projected * 100);
  if (p > Math.round(high * 100)) return 'over';
  if (p < Math.round(low * 100)) return 'under';
  return 'on_track';
}

export function pace(cal: MonthCalendar, x: PacingInput): Pacing {
  const d = x.dailyBudget;
  const hasMetrics = x.firstDay !== null && x.firstDay <= cal.yesterday;
  // A campaign that first delivered this month is paced from that day: the days before it could not be spent.
  const startedOn = hasMetrics && x.firstDay! > cal.monthStart ? x.firstDay! : null;
  const start = startedOn ?? cal.monthStart;
  const budgetDays = daysBetween(start, cal.monthEnd);
  const monthBudget = roundCents(d * budgetDays);
  const toDateBudget = roundCents(d * daysBetween(start, cal.yesterday));
  const rateDays = hasMetrics ? daysBetween(x.firstDay! > cal.rateFrom ? x.firstDay! : cal.rateFrom, cal.yesterday) : 0;
  const rate = rateDays > 0 ? x.rateSpend / rateDays : null;
  const halfWidth = roundCents(monthBudget * cal.band);
  const base = {
    dailyBudget: d,
    budgetDays,
    startedOn,
    monthBudget,
    toDateBudget,
    yesterdaySpend: x.yesterdaySpend,
    yesterdayRatio: d > 0 ? x.yesterdaySpend / d : null,
    mtdSpend: x.mtdSpend,
    rate: rate === null ? null : roundCents(rate),
    rateDays,
    band: cal.band,
    low: roundCents(monthBudget - halfWidth),
    high: roundCents(monthBudget + halfWidth),
  };
  const ratioOf = (p: number | null) => (p === null || monthBudget <= 0 ? null : p / monthBudget);

  if (x.status !== 'active') {
    return { ...base, state: 'not_paced', reason: x.status, projected: x.mtdSpend, ratio: ratioOf(x.mtdSpend) };
  }
  if (rate === null) return { ...base, state: 'not_paced', reason: 'no_metrics', projected: null, ratio: null };
  // Once the month is closed no day is left: the projection is the month's spend.
  const projected = roundCents(x.mtdSpend + rate * cal.remainingDays);
  return { ...base, state: judge(projected, base.low, base.high), reason: null, projected, ratio: ratioOf(projected) };
}

/** Sums of a set of allocations: budgets of the active ones, spend of all, projections (paused and ended count with their spend so far). */
export interface PacingTotals {
  allocations: number;
  active: number;
  dailyBudget: number;
  monthBudget: number;
  yesterdaySpend: number;
  mtdSpend: number;
  projected: number;
  /** projected / monthBudget; null when no active budget. */
  ratio: number | null;
  offPace: number;
}

export function paceTotals(rows: readonly { status: AllocationStatus; pacing: Pacing }[]): PacingTotals {
  let dailyBudget = 0;
  let monthBudget = 0;
  let yesterdaySpend = 0;
  let mtdSpend = 0;
  let projected = 0;
  let active = 0;
  let offPace = 0;
  for (const r of rows) {
    const p = r.pacing;
    if (r.status === 'active') {
      active++;
      dailyBudget += p.dailyBudget;
      monthBudget += p.monthBudget;
    }
    yesterdaySpend += p.yesterdaySpend;
    mtdSpend += p.mtdSpend;
    projected += p.projected ?? p.mtdSpend;
    if (p.state === 'over' || p.state === 'under') offPace++;
  }
  const round = roundCents;
  return {
    allocations: rows.length,
    active,
    dailyBudget: round(dailyBudget),
    monthBudget: round(monthBudget),
    yesterdaySpend: round(yesterdaySpend),
    mtdSpend: round(mtdSpend),
    projected: round(projected),
    ratio: monthBudget > 0 ? projected / monthBudget : null,
    offPace,
  };
}

// ---------------------------------------------------------------------------
// The words next to the figures (the page and its alerts).
// ---------------------------------------------------------------------------
export const STATE_LABEL: Readonly<Record<PaceState, string>> = {
  on_track: 'On track',
  under: 'Under pace',
  over: 'Over pace',
  not_paced: 'Not paced',
};

/** The verdict on a closed month: its spend against its budget, no longer a pace. */
export const CLOSED_STATE_LABEL: Readonly<Record<PaceState, string>> = {
  on_track: 'On budget',
  under: 'Under budget',
  over: 'Over budget',
  not_paced: 'Not paced',
};

export const REASON_LABEL: Readonly<Record<NotPacedReason, string>> = {
  paused: 'Not paced',
  ended: 'Not paced',
  no_metrics: 'No delivery yet',
};

/** The badge of a row: the reason it is not paced, or its verdict (on the month's pace, or on a closed month's budget). */
export function paceLabel(p: Pacing, cal: MonthCalendar): string {
  if (p.reason) return REASON_LABEL[p.reason];
  return (cal.closed ? CLOSED_STATE_LABEL : STATE_LABEL)[p.state];
}

/** The month paced in words: "November 2026". */
export function monthLabel(cal: MonthCalendar, locale: string): string {
  return new Intl.DateTimeFormat(knownLocale(locale), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${cal.monthStart}T00:00:00Z`),
  );
}

/** The month alone: "November". */
export function monthName(cal: MonthCalendar, locale: string): string {
  return new Intl.DateTimeFormat(knownLocale(locale), { month: 'long', timeZone: 'UTC' }).format(new Date(`${cal.monthStart}T00:00:00Z`));
}

const money = (v: number, style: NumberStyle) => formatMoney(v, style, { decimals: Number.isInteger(v) ? 0 : 2 });

/** The band in words: "±18 %". */
export function bandText(band: number, style: Pick<NumberStyle, 'locale'>): string {
  return `±${formatPercent(band, style, 0)}`;
}

/** One sentence a buyer can check: what is projected (or, for a closed month, was spent), against what, and the band that decides. */
export function paceSentence(p: Pacing, cal: MonthCalendar, style: NumberStyle): string {
  const rateText =
    p.rate === null ? '' : ` at ${money(p.rate, style)} a day (the average of the last ${p.rateDays === 1 ? 'day' : `${p.rateDays} days`})`;
  const from = p.startedOn ? ` from its first delivery on ${formatCalendarDay(p.startedOn, style.locale, { year: false })}` : '';
  const budgetText = `the month budget of ${money(p.monthBudget, style)} (${p.budgetDays} × ${money(p.dailyBudget, style)}${from})`;
  const inMonth = cal.closed ? `in ${monthName(cal, style.locale)}` : 'this month';
  switch (p.reason) {
    case 'paused':
    case 'ended':
      return `${p.reason === 'paused' ? 'Paused' : 'Ended'}: not paced. ${money(p.mtdSpend, style)} spent ${inMonth}.`;
    case 'no_metrics':
      return 'No delivery recorded for this campaign yet: nothing to pace.';
    default:
      break;
  }
  const projected = p.projected ?? 0;
  const head = cal.closed
    ? `Spent ${money(projected, style)} ${inMonth} (month closed)`
    : `Projected ${money(projected, style)} at month end: ${money(p.mtdSpend, style)} spent through yesterday plus ${cal.remainingDays} ${cal.remainingDays === 1 ? 'day' : 'days'}${rateText}`;
  if (p.monthBudget <= 0) {
    return projected > 0
      ? `${head}, with a daily budget of 0: every amount spent is over budget.`
      : `${head}, with a daily budget of 0: nothing spent, nothing planned.`;
  }
  const dev = projected / p.monthBudget - 1;
  const devText = `${dev >= 0 ? '+' : '−'}${formatPercent(Math.abs(dev), style, 0)}`;
  const when = cal.closed ? 'at month end' : `with ${cal.remainingDays} ${cal.remainingDays === 1 ? 'day' : 'days'} left`;
  const allowed = `${bandText(p.band, style)} allowed ${when}, ${money(p.low, style)} to ${money(p.high, style)}`;
  const verdict = p.state === 'over' ? 'over budget, beyond' : p.state === 'under' ? 'under budget, beyond' : 'within';
  return `${head}, against ${budgetText}: ${devText}, ${verdict} the ${allowed}.`;
}
