// The evidence in plain words: the numbers and the sentence a buyer reads, on
// evidence shaped as the engine writes it (db/media_buying/090_recommendations.sql).
import { describe, expect, it } from 'vitest';
import { chanceInWords, evidenceFigures, testInWords } from '../../lib/recommendations/evidence';

const EUR = { currency: 'EUR', locale: 'en-GB' };

describe('recommendation evidence', () => {
  it('a pause: CPA against its line and the chance it is noise', () => {
    const e = { cpa_7d: 142.4, pause_line: 100, spend_7d: 1424, conversions_7d: 10, p_value: 0.0042, p_threshold: 0.006, test: 'nb_lower', null_hypothesis: 'CPA <= pause line' };
    expect(testInWords('pause', e, EUR)).toBe(
      '7-day CPA €142 against a limit of €100: the chance this is noise is under 1 %. Tested: is "CPA <= pause line" still believable? ' +
        '(a count test (negative binomial) of conversions against what the line allows)',
    );
    expect(evidenceFigures(e, EUR).map((f) => [f.label, f.value])).toEqual([
      ['Spend, 7 days', '€1,424'],
      ['Conversions, 7 days', '10'],
      ['CPA, 7 days', '€142'],
      ['Pause line (CPA)', '€100'],
    ]);
  });

  it('spend without a conversion, a budget against its target, figures from strings, nothing invented', () => {
    expect(testInWords('pause', { spend_7d: '350', conversions_7d: 0, p_value: 0.00002 }, EUR)).toBe(
      '€350 spent in 7 days without a conversion: the chance this is noise is under 0.01 %.',
    );
    expect(testInWords('budget_increase', { roas_7d: 4.1, target_roas: 2.5, p_value: 0.03, p_threshold: 0.01 }, EUR)).toBe(
      '7-day ROAS 4.10 against a target of 2.50: the chance this is noise is about 3 % (above the cut of this run: shown, not acted on).',
    );
    expect(testInWords('timing', {}, EUR)).toBe('The figures below: the chance this is noise is not computed.');
    expect(evidenceFigures({ spend_7d: 'NaN', note: 'x' }, EUR)).toEqual([]);
  });

  it('the line is written as what it measures: money for CPC and CPM, a percentage for CTR, a ratio for ROAS', () => {
    const line = (type: string, e: Record<string, unknown>) => evidenceFigures(e, EUR, type).find((f) => f.key === 'line')?.value;
    expect(line('bid_adjustment', { line: 2.6 })).toBe('€2.60');
    expect(line('creative', { line: 0.0123 })).toBe('1.23%');
    expect(line('audience', { line: 14.5 })).toBe('€14.50');
    expect(line('budget_increase', { line: 3.6, target_roas: 3 })).toBe('3.60');
    expect(line('budget_decrease', { line: 25, target_cpa: 20 })).toBe('€25.00');
  });

  it('the chance in words at its edges', () => {
    expect([0, 0.00009, 0.0009, 0.009, 0.011, 0.049, 0.2, 1, -1, null].map(chanceInWords)).toEqual([
      'under 0.01 %', 'under 0.01 %', 'under 0.1 %', 'under 1 %', 'about 1 %', 'about 5 %', '20 %', '100 %', 'not computed', 'not computed',
    ]);
  });
});
