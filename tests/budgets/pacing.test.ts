// The month pacing model (lib/budgets/pacing.ts, docs/budgets.md) against
// figures worked out by hand in the comments: the calendar (mid-month, the
// last day, February of 28 and 29 days, the 1st, when the month paced is the
// previous one, closed, and the 2nd, the new month's first complete day), the
// 7-day rate and its two edges (a window reaching into the previous month, a
// campaign younger than a week), the band that narrows through the month to
// its final width for a closed month, a zero budget, and the allocations that
// are not paced (paused, ended, no metrics).
import { describe, expect, it } from 'vitest';
import {
  BAND_BASE,
  daysInMonth,
  judge,
  monthCalendar,
  monthLabel,
  pace,
  paceLabel,
  paceSentence,
  paceTotals,
  toleranceBand,
  type PacingInput,
} from '../../lib/budgets/pacing';

const style = { currency: 'EUR', locale: 'en-GB' };
const active = (x: Partial<PacingInput>): PacingInput => ({
  dailyBudget: 100,
  status: 'active',
  yesterdaySpend: 0,
  mtdSpend: 0,
  rateSpend: 0,
  firstDay: '2025-01-01',
  ...x,
});

describe('the calendar', () => {
  it('counts February as 28 days, 29 in leap years (2000 yes, 2100 no)', () => {
    expect(daysInMonth(2026, 2)).toBe(28);
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2026, m))).toEqual([31, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
  });

  it('mid-month: the 15th of a 30-day month', () => {
    // April 2026 has 30 days. Today the 15th: 14 complete days (1-14), 16 left (15-30, today included).
    // Band: 0.05 + 0.25 × 16/30 = 0.05 + 0.1333… = 0.1833…; the rate window is the 7 days 8-14 April.
    const cal = monthCalendar('2026-04-15');
    expect(cal).toMatchObject({
      today: '2026-04-15',
      yesterday: '2026-04-14',
      monthStart: '2026-04-01',
      monthEnd: '2026-04-30',
      daysInMonth: 30,
      elapsedDays: 14,
      remainingDays: 16,
      rateFrom: '2026-04-08',
    });
    expect(cal.remainingShare).toBeCloseTo(16 / 30, 12);
    expect(cal.band).toBeCloseTo(0.05 + 0.25 * (16 / 30), 12);
  });

  it('the 1st: the month paced is the previous one, closed, at the final band', () => {
    // 1 May 2026: the last complete day is 30 April, so April is paced: all 30 of its days complete, none left.
    // Band 0.05 + 0.25 × 0/30 = 0.05 (BAND_BASE); the rate window 24-30 April.
    const cal = monthCalendar('2026-05-01');
    expect(cal).toMatchObject({
      today: '2026-05-01',
      yesterday: '2026-04-30',
      monthStart: '2026-04-01',
      monthEnd: '2026-04-30',
      daysInMonth: 30,
      elapsedDays: 30,
      remainingDays: 0,
      remainingShare: 0,
      closed: true,
      rateFrom: '2026-04-24',
    });
    expect(cal.band).toBe(BAND_BASE);
    expect(monthLabel(cal, 'en-GB')).toBe('April 2026');
    // 1 January 2027: December 2026, 31 days, closed.
    expect(monthCalendar('2027-01-01')).toMatchObject({ monthStart: '2026-12-01', monthEnd: '2026-12-31', elapsedDays: 31, remainingDays: 0, closed: true });
  });

  it('the 2nd: the new month with one complete day', () => {
    // 2 May 2026: yesterday 1 May. May has 31 days: 1 complete, 30 left (2-31, today included).
    // Band 0.05 + 0.25 × 30/31 = 0.05 + 0.241935… = 0.291935…; the rate window 25 April - 1 May reaches back into April.
    const cal = monthCalendar('2026-05-02');
    expect(cal).toMatchObject({ yesterday: '2026-05-01', monthStart: '2026-05-01', monthEnd: '2026-05-31', elapsedDays: 1, remainingDays: 30, closed: false, rateFrom: '2026-04-25' });
    expect(cal.band).toBeCloseTo(0.05 + 0.25 * (30 / 31), 12);
  });

  it('the last day of a month, and of February in a leap year', () => {
    // 31 March: 30 complete days, 1 left; band 0.05 + 0.25/31 = 0.058064….
    const mar = monthCalendar('2026-03-31');
    expect(mar).toMatchObject({ elapsedDays: 30, remainingDays: 1, daysInMonth: 31, closed: false });
    expect(mar.band).toBeCloseTo(0.05 + 0.25 / 31, 12);
    // 29 February 2028: 28 complete days of 29, 1 left; yesterday the 28th.
    const leap = monthCalendar('2028-02-29');
    expect(leap).toMatchObject({ yesterday: '2028-02-28', monthEnd: '2028-02-29', daysInMonth: 29, elapsedDays: 28, remainingDays: 1 });
    // 1 March 2028: yesterday is 29 February, and February 2028 (29 days) is the month paced, closed.
    expect(monthCalendar('2028-03-01')).toMatchObject({ yesterday: '2028-02-29', monthStart: '2028-02-01', daysInMonth: 29, elapsedDays: 29, closed: true });
  });

  it('the band narrows through the month: wide on day 2, narrow on the 28th', () => {
    // 30-day month. Day 2: 29 days left, 0.05 + 0.25 × 29/30 = 0.291666…; the 28th: 3 left, 0.05 + 0.25 × 3/30 = 0.075.
    expect(monthCalendar('2026-04-02').band).toBeCloseTo(0.2916667, 6);
    expect(monthCalendar('2026-04-28').band).toBeCloseTo(0.075, 12);
    expect(toleranceBand(1)).toBeCloseTo(0.3, 12);
    expect(toleranceBand(0)).toBeCloseTo(0.05, 12);
  });

  it('refuses what is not a calendar day', () => {
    expect(() => monthCalendar('2026-02-30')).toThrow();
    expect(() => monthCalendar('yesterday')).toThrow();
  });
});

describe('pacing mid-month (15 April 2026: 14 days done, 16 left, band 18.33 %)', () => {
  const cal = monthCalendar('2026-04-15');
  // Daily budget 100: month budget 100 × 30 = 3,000. Half-width 3,000 × 0.18333… = 550: band 2,450 .. 3,550.

  it('on track', () => {
    // Spent 1,260 on 1-14 April; the last 7 days (8-14) 700, a rate of 700 / 7 = 100 a day.
    // Projection 1,260 + 100 × 16 = 2,860: inside 2,450 .. 3,550. Ratio 2,860 / 3,000 = 0.95333.
    const p = pace(cal, active({ mtdSpend: 1260, rateSpend: 700, yesterdaySpend: 95 }));
    expect(p).toMatchObject({
      state: 'on_track',
      reason: null,
      budgetDays: 30,
      monthBudget: 3000,
      toDateBudget: 1400,
      rate: 100,
      rateDays: 7,
      projected: 2860,
      low: 2450,
      high: 3550,
    });
    expect(p.ratio).toBeCloseTo(2860 / 3000, 12);
    // Yesterday's 95 against the daily 100: 0.95.
    expect(p.yesterdayRatio).toBeCloseTo(0.95, 12);
  });

  it('over: the last week at 150 a day', () => {
    // Rate 1,050 / 7 = 150. Projection 1,260 + 150 × 16 = 3,660 > 3,550.
    const p = pace(cal, active({ mtdSpend: 1260, rateSpend: 1050 }));
    expect(p).toMatchObject({ state: 'over', rate: 150, projected: 3660 });
    expect(paceSentence(p, cal, style)).toBe(
      'Projected €3,660 at month end: €1,260 spent through yesterday plus 16 days at €150 a day (the average of the last 7 days), ' +
        'against the month budget of €3,000 (30 × €100): +22%, over budget, beyond the ±18% allowed with 16 days left, €2,450 to €3,550.',
    );
  });

  it('under: the last week at 50 a day', () => {
    // Rate 350 / 7 = 50. Projection 1,260 + 50 × 16 = 2,060 < 2,450.
    expect(pace(cal, active({ mtdSpend: 1260, rateSpend: 350 }))).toMatchObject({ state: 'under', projected: 2060 });
  });

  it('the bounds themselves are on track', () => {
    // 3,550 exactly: MTD 1,150 + 150 × 16 = 3,550 (rate 1,050 / 7). 2,450 exactly: MTD 1,330 + 70 × 16 = 2,450 (rate 490 / 7).
    expect(pace(cal, active({ mtdSpend: 1150, rateSpend: 1050 }))).toMatchObject({ state: 'on_track', projected: 3550 });
    expect(pace(cal, active({ mtdSpend: 1330, rateSpend: 490 }))).toMatchObject({ state: 'on_track', projected: 2450 });
    // One cent beyond either bound is not.
    expect(judge(3550.01, 2450, 3550)).toBe('over');
    expect(judge(2449.99, 2450, 3550)).toBe('under');
  });

  it('the 7-day rate follows a change the month-to-date average would hide', () => {
    // 50 a day on 1-7 April, 100 a day on 8-14 (the budget was raised): MTD 350 + 700 = 1,050.
    // 7-day rate 700 / 7 = 100: projection 1,050 + 100 × 16 = 2,650, on track (>= 2,450).
    // The month-to-date average would be 1,050 / 14 = 75: 1,050 + 75 × 16 = 2,250, under: a false alert.
    expect(pace(cal, active({ mtdSpend: 1050, rateSpend: 700 }))).toMatchObject({ state: 'on_track', projected: 2650 });
  });
});

describe('the rate window at its edges', () => {
  it('reaches into the previous month early in the month', () => {
    // 3 April 2026: yesterday the 2nd, the window 27 March - 2 April (7 days, 5 of them in March).
    // MTD (1-2 April) 180; the window's spend 630, rate 90. Days left 30 - 2 = 28: projection 180 + 90 × 28 = 2,700.
    // Month budget 3,000; band 0.05 + 0.25 × 28/30 = 0.283333…, half-width 850: 2,150 .. 3,850. On track.
    const cal = monthCalendar('2026-04-03');
    expect(cal.rateFrom).toBe('2026-03-27');
    expect(pace(cal, active({ mtdSpend: 180, rateSpend: 630 }))).toMatchObject({ state: 'on_track', rate: 90, rateDays: 7, projected: 2700, low: 2150, high: 3850 });
  });

  it('a campaign younger than a week: the rate over its own days, the month budget from its first day', () => {
    // First delivery 12 April; today the 15th. Rate window 12-14 April: 3 days, 300 spent, 100 a day.
    // Month budget from the 12th: 19 days (12-30) × 100 = 1,900; to date 3 × 100 = 300.
    // Projection 300 + 100 × 16 = 1,900: exactly the budget (ratio 1). Band 0.18333… × 1,900 = 348.33: 1,551.67 .. 2,248.33.
    const cal = monthCalendar('2026-04-15');
    const p = pace(cal, active({ firstDay: '2026-04-12', mtdSpend: 300, rateSpend: 300 }));
    expect(p).toMatchObject({ state: 'on_track', startedOn: '2026-04-12', budgetDays: 19, monthBudget: 1900, toDateBudget: 300, rateDays: 3, rate: 100, projected: 1900, low: 1551.67, high: 2248.33 });
    expect(p.ratio).toBe(1);
  });

  it('a campaign that first delivered yesterday: one day behind the rate', () => {
    // First day 14 April: rate 120 / 1 day; budget days 17 (14-30): 1,700. Projection 120 + 120 × 16 = 2,040.
    // Half-width 1,700 × 0.18333… = 311.67: 1,388.33 .. 2,011.67: over.
    const p = pace(monthCalendar('2026-04-15'), active({ firstDay: '2026-04-14', mtdSpend: 120, rateSpend: 120 }));
    expect(p).toMatchObject({ state: 'over', rateDays: 1, rate: 120, budgetDays: 17, monthBudget: 1700, projected: 2040, high: 2011.67 });
  });
});

describe('the last day of the month (31 March 2026: 30 days done, 1 left)', () => {
  const cal = monthCalendar('2026-03-31');
  // Daily 50: month budget 1,550. Band 0.05 + 0.25/31; half-width 1,550 × that = 77.50 + 12.50 = 90: 1,460 .. 1,640.

  it('on track a little under', () => {
    // MTD 1,500; last 7 days 329, rate 47. Projection 1,500 + 47 = 1,547.
    expect(pace(cal, active({ dailyBudget: 50, mtdSpend: 1500, rateSpend: 329 }))).toMatchObject({
      state: 'on_track',
      monthBudget: 1550,
      projected: 1547,
      low: 1460,
      high: 1640,
    });
  });

  it('over: no day left to correct it', () => {
    // MTD 1,600, rate 420 / 7 = 60: 1,660 > 1,640.
    expect(pace(cal, active({ dailyBudget: 50, mtdSpend: 1600, rateSpend: 420 }))).toMatchObject({ state: 'over', projected: 1660 });
  });
});

describe('February', () => {
  it('a 28-day February (20 February 2026: 19 days done, 9 left)', () => {
    // Daily 200: 28 × 200 = 5,600. Band 0.05 + 0.25 × 9/28 = 0.130357…; half-width 280 + 450 = 730: 4,870 .. 6,330.
    // MTD (1-19) 3,420; the last 7 days (13-19) 1,260, rate 180. Projection 3,420 + 180 × 9 = 5,040: on track.
    const cal = monthCalendar('2026-02-20');
    expect(cal).toMatchObject({ daysInMonth: 28, elapsedDays: 19, remainingDays: 9, rateFrom: '2026-02-13' });
    expect(pace(cal, active({ dailyBudget: 200, mtdSpend: 3420, rateSpend: 1260 }))).toMatchObject({
      state: 'on_track',
      monthBudget: 5600,
      projected: 5040,
      low: 4870,
      high: 6330,
    });
  });

  it('the same spend over a 29-day February is judged against 29 days', () => {
    // 20 February 2028: 19 done, 10 left. 29 × 200 = 5,800; band 0.05 + 0.25 × 10/29 = 0.136206…, half-width 290 + 500 = 790: 5,010 .. 6,590.
    // Projection 3,420 + 180 × 10 = 5,220: on track.
    const p = pace(monthCalendar('2028-02-20'), active({ dailyBudget: 200, mtdSpend: 3420, rateSpend: 1260 }));
    expect(p).toMatchObject({ state: 'on_track', budgetDays: 29, monthBudget: 5800, projected: 5220, low: 5010, high: 6590 });
  });

  it('the last day of a 28-day February', () => {
    // 28 February 2026: 27 done, 1 left. 28 × 100 = 2,800; band 0.05 + 0.25/28; half-width 140 + 25 = 165: 2,635 .. 2,965.
    // MTD 2,600, rate 700 / 7 = 100: 2,700. On track.
    const p = pace(monthCalendar('2026-02-28'), active({ mtdSpend: 2600, rateSpend: 700 }));
    expect(p).toMatchObject({ state: 'on_track', monthBudget: 2800, projected: 2700, low: 2635, high: 2965 });
  });
});

describe('the previous month, closed (1 May 2026: all 30 days of April complete, none left)', () => {
  const cal = monthCalendar('2026-05-01');
  // Daily budget 100: month budget 100 × 30 = 3,000, what the budget allowed to date the same 3,000 (30 days).
  // Band 0.05 (no day left): half-width 3,000 × 0.05 = 150, bounds 2,850 .. 3,150. The projection is April's spend:
  // the rate (24-30 April, here 700 / 7 = 100 a day) times 0 days left adds nothing.

  it('on budget: April spent 2,940, 98 % of its budget', () => {
    // 2,940 / 3,000 = 0.98: inside 2,850 .. 3,150. Yesterday (30 April) 95 of the daily 100.
    const p = pace(cal, active({ mtdSpend: 2940, rateSpend: 700, yesterdaySpend: 95 }));
    expect(p).toMatchObject({
      state: 'on_track',
      reason: null,
      budgetDays: 30,
      monthBudget: 3000,
      toDateBudget: 3000,
      rate: 100,
      rateDays: 7,
      projected: 2940,
      band: 0.05,
      low: 2850,
      high: 3150,
    });
    expect(p.ratio).toBeCloseTo(0.98, 12);
    expect(paceLabel(p, cal)).toBe('On budget');
    // 2,940 / 3,000 - 1 = -0.02: "−2%".
    expect(paceSentence(p, cal, style)).toBe(
      'Spent €2,940 in April (month closed), against the month budget of €3,000 (30 × €100): −2%, within the ±5% allowed at month end, €2,850 to €3,150.',
    );
  });

  it('under and over: 90 % and 107 % of the budget', () => {
    // 2,700 < 2,850: under. The last week's rate (900 / 7, 128.57 a day) no longer counts: no day is left to spend it.
    const under = pace(cal, active({ mtdSpend: 2700, rateSpend: 900 }));
    expect(under).toMatchObject({ state: 'under', projected: 2700 });
    expect(paceLabel(under, cal)).toBe('Under budget');
    // 3,210 > 3,150: over, +7 % (3,210 / 3,000 - 1 = 0.07).
    const over = pace(cal, active({ mtdSpend: 3210, rateSpend: 750 }));
    expect(over).toMatchObject({ state: 'over', projected: 3210 });
    expect(paceLabel(over, cal)).toBe('Over budget');
    expect(paceSentence(over, cal, style)).toBe(
      'Spent €3,210 in April (month closed), against the month budget of €3,000 (30 × €100): +7%, over budget, beyond the ±5% allowed at month end, €2,850 to €3,150.',
    );
    // The bounds themselves are on budget; a cent beyond is not.
    expect(pace(cal, active({ mtdSpend: 2850 })).state).toBe('on_track');
    expect(pace(cal, active({ mtdSpend: 3150 })).state).toBe('on_track');
    expect(pace(cal, active({ mtdSpend: 3150.01 })).state).toBe('over');
  });

  it('the same April judged on its last day, with one day left, and closed the day after', () => {
    // 30 April 2026: 29 days complete, 1 left; band 0.05 + 0.25/30 = 0.058333…, half-width 175: 2,825 .. 3,175.
    // Through the 29th 2,830; the last week's rate 700 / 7 = 100: projection 2,830 + 100 × 1 = 2,930, on track.
    const last = pace(monthCalendar('2026-04-30'), active({ mtdSpend: 2830, rateSpend: 700 }));
    expect(last).toMatchObject({ state: 'on_track', projected: 2930, low: 2825, high: 3175 });
    // The 30th spent 110: April closes at 2,940, on budget (2,850 .. 3,150).
    expect(pace(cal, active({ mtdSpend: 2940, rateSpend: 710 }))).toMatchObject({ state: 'on_track', projected: 2940 });
  });

  it('a campaign that started during the month is judged from its first day', () => {
    // First delivery 21 April: budget days 21-30 = 10, month budget 1,000. Half-width 50: 950 .. 1,050.
    // Spent 1,020 (102 %): on budget. The rate window (24-30) lies inside its days: 7 days.
    const p = pace(cal, active({ firstDay: '2026-04-21', mtdSpend: 1020, rateSpend: 714 }));
    expect(p).toMatchObject({ state: 'on_track', startedOn: '2026-04-21', budgetDays: 10, monthBudget: 1000, toDateBudget: 1000, rateDays: 7, projected: 1020, low: 950, high: 1050 });
  });

  it('paused, no delivery, zero budget', () => {
    const paused = pace(cal, active({ status: 'paused', mtdSpend: 400 }));
    expect(paused).toMatchObject({ state: 'not_paced', reason: 'paused', projected: 400 });
    expect(paceSentence(paused, cal, style)).toBe('Paused: not paced. €400 spent in April.');
    expect(pace(cal, active({ firstDay: null }))).toMatchObject({ state: 'not_paced', reason: 'no_metrics' });
    // Daily 0, 300 spent: over, whatever the band.
    const zero = pace(cal, active({ dailyBudget: 0, mtdSpend: 300 }));
    expect(zero).toMatchObject({ state: 'over', monthBudget: 0, projected: 300, ratio: null });
    expect(paceSentence(zero, cal, style)).toBe('Spent €300 in April (month closed), with a daily budget of 0: every amount spent is over budget.');
  });

  it('a closed 28-day February, spent as Google may spend it: over budget', () => {
    // 1 March 2026: February 2026 (28 days) closed. Daily 200: 5,600, half-width 280: 5,320 .. 5,880.
    // Google may bill up to 30.4 × the average daily budget in a month: 6,080, +8.6 % on 28 days. Over: 6,080 > 5,880.
    const feb = monthCalendar('2026-03-01');
    expect(feb).toMatchObject({ monthStart: '2026-02-01', daysInMonth: 28, closed: true });
    const p = pace(feb, active({ dailyBudget: 200, mtdSpend: 6080, rateSpend: 1520 }));
    expect(p).toMatchObject({ state: 'over', monthBudget: 5600, projected: 6080, low: 5320, high: 5880 });
    expect(p.ratio).toBeCloseTo(6080 / 5600, 12);
  });
});

describe('what is not paced, and a zero budget', () => {
  const cal = monthCalendar('2026-04-15');

  it('paused and ended: not paced; the projection is the spend so far', () => {
    const paused = pace(cal, active({ status: 'paused', mtdSpend: 400, rateSpend: 100 }));
    expect(paused).toMatchObject({ state: 'not_paced', reason: 'paused', projected: 400 });
    expect(paceSentence(paused, cal, style)).toBe('Paused: not paced. €400 spent this month.');
    expect(pace(cal, active({ status: 'ended', mtdSpend: 0 }))).toMatchObject({ state: 'not_paced', reason: 'ended', projected: 0 });
  });

  it('no metrics yet: nothing to pace', () => {
    const p = pace(cal, active({ firstDay: null }));
    expect(p).toMatchObject({ state: 'not_paced', reason: 'no_metrics', projected: null, rate: null, rateDays: 0, ratio: null, monthBudget: 3000 });
  });

  it('a zero budget: any spend is over, none is on track', () => {
    // Budget 0: month budget 0, band 0 .. 0. Rate 70 / 7 = 10; MTD 140: 140 + 10 × 16 = 300 > 0: over, no ratio.
    const spending = pace(cal, active({ dailyBudget: 0, mtdSpend: 140, rateSpend: 70 }));
    expect(spending).toMatchObject({ state: 'over', monthBudget: 0, low: 0, high: 0, projected: 300, ratio: null, yesterdayRatio: null });
    expect(paceSentence(spending, cal, style)).toMatch(/with a daily budget of 0: every amount spent is over budget\.$/);
    expect(pace(cal, active({ dailyBudget: 0 }))).toMatchObject({ state: 'on_track', projected: 0 });
  });
});

describe('totals', () => {
  it('budgets of the active allocations, spend of all, projections with paused ones at their spend so far', () => {
    const cal = monthCalendar('2026-04-15');
    const rows = [
      // on track: daily 100, month 3,000, MTD 1,260, projection 2,860, yesterday 95
      { status: 'active' as const, pacing: pace(cal, active({ mtdSpend: 1260, rateSpend: 700, yesterdaySpend: 95 })) },
      // over: daily 100, month 3,000, MTD 1,260, projection 3,660, yesterday 160
      { status: 'active' as const, pacing: pace(cal, active({ mtdSpend: 1260, rateSpend: 1050, yesterdaySpend: 160 })) },
      // paused: its daily 100 not counted; MTD 400 counts, projected at 400
      { status: 'paused' as const, pacing: pace(cal, active({ status: 'paused', mtdSpend: 400, rateSpend: 100 })) },
      // no metrics: daily 100 and month 3,000 counted, nothing spent or projected
      { status: 'active' as const, pacing: pace(cal, active({ firstDay: null })) },
    ];
    // Daily 300, month 9,000; yesterday 255; MTD 1,260 + 1,260 + 400 = 2,920; projected 2,860 + 3,660 + 400 + 0 = 6,920.
    const t = paceTotals(rows);
    expect(t).toMatchObject({ allocations: 4, active: 3, dailyBudget: 300, monthBudget: 9000, yesterdaySpend: 255, mtdSpend: 2920, projected: 6920, offPace: 1 });
    expect(t.ratio).toBeCloseTo(6920 / 9000, 12);
  });

  it('a closed month: every projection is the month’s spend', () => {
    const cal = monthCalendar('2026-05-01');
    const rows = [
      // on budget: daily 100, month 3,000, spent 2,940 (yesterday 95)
      { status: 'active' as const, pacing: pace(cal, active({ mtdSpend: 2940, rateSpend: 700, yesterdaySpend: 95 })) },
      // under: daily 100, month 3,000, spent 2,700 (yesterday 80)
      { status: 'active' as const, pacing: pace(cal, active({ mtdSpend: 2700, rateSpend: 560, yesterdaySpend: 80 })) },
      // paused: budget left out, its 400 counts
      { status: 'paused' as const, pacing: pace(cal, active({ status: 'paused', mtdSpend: 400 })) },
    ];
    // Daily 200, month 6,000; yesterday 175; spent 2,940 + 2,700 + 400 = 6,040, projected the same.
    const t = paceTotals(rows);
    expect(t).toMatchObject({ allocations: 3, active: 2, dailyBudget: 200, monthBudget: 6000, yesterdaySpend: 175, mtdSpend: 6040, projected: 6040, offPace: 1 });
  });
});
