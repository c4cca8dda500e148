// The view read from the URL: every bad value falls back to its default, a
// custom range is kept only inside its bounds, and the link of a view reads
// back as the same view.
import { describe, expect, it } from 'vitest';
import { comparisonPeriod, parseView, viewHref, viewParams } from '../../lib/performance/filters';

const LAST = '2026-11-30';

describe('parseView', () => {
  it('defaults: the last 7 days ending on the last complete day, against the 28-day baseline before them', () => {
    const v = parseView({}, LAST);
    expect(v).toMatchObject({ range: '7d', compare: 'baseline', level: 'campaign', metric: 'roas', platforms: [] });
    expect(v.period).toEqual({ from: '2026-11-24', to: '2026-11-30', days: 7 });
    expect(v.comparison).toEqual({ from: '2026-10-27', to: '2026-11-23', days: 28 });
  });

  it('the previous period has the range length; a baseline longer than 28 days has the range length too', () => {
    expect(parseView({ range: '30d', compare: 'previous' }, LAST).comparison).toEqual({ from: '2026-10-02', to: '2026-10-31', days: 30 });
    expect(parseView({ range: '90d' }, LAST).comparison.days).toBe(90);
    expect(parseView({ range: 'yesterday' }, LAST).period).toEqual({ from: LAST, to: LAST, days: 1 });
    // Across a month end and a leap day.
    expect(comparisonPeriod({ from: '2024-03-01', to: '2024-03-07', days: 7 }, 'previous')).toEqual({ from: '2024-02-23', to: '2024-02-29', days: 7 });
  });

  it('bad values fall back, never throw', () => {
    const v = parseView(
      { range: "'; drop table x", compare: 'yesterday', level: 'ad', metric: 'revenue', platform: ['META', 'myspace', 'google,meta,google'] },
      LAST,
    );
    expect(v).toMatchObject({ range: '7d', compare: 'baseline', level: 'campaign', metric: 'roas', platforms: ['google', 'meta'] });
    for (const [from, to] of [
      ['2026-11-31', '2026-11-30'], // no such day
      ['2026-11-20', '2026-11-10'], // backwards
      ['2026-11-20', '2026-12-01'], // ends after the last complete day
      ['2023-01-01', '2023-01-05'], // before the 732 days kept
      ['2025-01-01', '2026-11-30'], // longer than 366 days
      ['20261101', '2026-11-02'],
      [undefined, '2026-11-02'],
    ]) {
      expect(parseView({ range: 'custom', from, to }, LAST).range).toBe('7d');
    }
    const ok = parseView({ range: 'custom', from: '2026-11-01', to: '2026-11-10' }, LAST);
    expect(ok.period).toEqual({ from: '2026-11-01', to: '2026-11-10', days: 10 });
    expect(ok.comparison).toEqual({ from: '2026-10-04', to: '2026-10-31', days: 28 });
  });

  it('a view and its link read back the same; defaults are left out of the link', () => {
    expect(viewHref('/performance', parseView({}, LAST))).toBe('/performance');
    const v = parseView({ range: 'custom', from: '2026-11-01', to: '2026-11-10', platform: 'tiktok,meta', level: 'adset', compare: 'previous', metric: 'cpa' }, LAST);
    const href = viewHref('/performance', v);
    expect(href).toBe('/performance?range=custom&from=2026-11-01&to=2026-11-10&platform=meta%2Ctiktok&level=adset&compare=previous&metric=cpa');
    const back = parseView(Object.fromEntries(new URLSearchParams(href.split('?')[1])), LAST);
    expect(back).toEqual(v);
    expect(viewParams({ ...v, range: '14d' })).not.toHaveProperty('from');
  });
});
