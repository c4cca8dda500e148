// Measured outcomes and withdrawals in words, without a database: signs and
// rounding of relative changes, a fall to zero, intervals, due days, the track
// record sentence, and the figures a withdrawal compares. NaN and Infinity
// never reach the page.
import { describe, expect, it } from 'vitest';
import {
  horizonNote,
  horizonText,
  pluralTypeLabel,
  predictedNote,
  predictedText,
  relativeFromLog,
  signedPercent,
  trackRecordSentence,
  type HorizonOutcome,
  type RecommendationOutcome,
} from '../../lib/recommendations/outcome-format';
import { whatChanged } from '../../lib/recommendations/withdrawal';

const GB = { locale: 'en-GB' };
const EUR = { currency: 'EUR', locale: 'en-GB' };
const M = '\u2212';

function horizon(h: Partial<HorizonOutcome>): HorizonOutcome {
  return {
    horizon: 7,
    dueDay: '2025-12-12',
    measured: true,
    measuredAt: '2025-12-13T06:00:00.000Z',
    realised: null,
    lower: null,
    upper: null,
    entityChange: null,
    controlChange: null,
    controls: 0,
    directionHeld: null,
    ...h,
  };
}

describe('signed relative changes', () => {
  it('signs, whole percents, one decimal under 1 %, no minus zero', () => {
    const cases: [number, string][] = [
      [0.1234, '+12 %'],
      [0.125, '+13 %'],
      [-0.0349, `${M}3 %`],
      [-0.4, `${M}40 %`],
      [0.004, '+0.4 %'],
      [-0.0044, `${M}0.4 %`],
      [0.0096, '+1.0 %'],
      [0.0004, '0 %'],
      [-0.00004, '0 %'],
      [0, '0 %'],
      [-0, '0 %'],
      [0.995, '+100 %'],
      [12.5, '+1,250 %'],
    ];
    for (const [v, want] of cases) expect(signedPercent(v, GB), String(v)).toBe(want);
  });

  it('a fall to zero is −100 %; NaN, Infinity and missing values are a dash', () => {
    expect(signedPercent(-1, GB)).toBe(`${M}100 %`);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null]) expect(signedPercent(v, GB)).toBe('—');
  });

  it('in the locale: a decimal comma in French', () => {
    expect(signedPercent(0.004, { locale: 'fr-FR' })).toBe('+0,4 %');
    expect(signedPercent(-0.2, { locale: 'fr-FR' })).toBe(`${M}20 %`);
  });

  it('log-scale figures back to relative changes: exp(x) - 1, never Infinity', () => {
    expect(relativeFromLog(Math.log(0.6))).toBeCloseTo(-0.4, 12);
    expect(relativeFromLog(Math.log(1.25))).toBeCloseTo(0.25, 12);
    expect(relativeFromLog(0)).toBe(0);
    // exp(800) overflows a double: no figure rather than "+Infinity %".
    expect(relativeFromLog(800)).toBeNull();
    expect(relativeFromLog(Number.NaN)).toBeNull();
    expect(relativeFromLog(Number.NEGATIVE_INFINITY)).toBeNull();
    expect(relativeFromLog(null)).toBeNull();
    // A huge fall is -1 at double precision, which reads as −100 %.
    expect(signedPercent(relativeFromLog(-800), GB)).toBe(`${M}100 %`);
  });
});

describe('a horizon in a cell', () => {
  it('an estimate with its interval, and the note under it', () => {
    const h = horizon({ realised: 0.12, lower: -0.031, upper: 0.284, entityChange: 0.2, controls: 10, directionHeld: true });
    expect(horizonText(h, GB)).toBe(`+12 % (${M}3 % to +28 %)`);
    expect(horizonNote(h, GB)).toBe('direction right; own change +20 %, 10 comparable');
    expect(horizonNote({ ...h, directionHeld: false }, GB)).toBe('direction wrong; own change +20 %, 10 comparable');
  });

  it('not measured yet: the due day, late once that day is past, the year when it is another', () => {
    const h = horizon({ measured: false, measuredAt: null, dueDay: '2025-12-12' });
    expect(horizonText(h, GB)).toBe('due 12 Dec');
    expect(horizonText(h, GB, '2025-12-11')).toBe('due 12 Dec');
    expect(horizonText(h, GB, '2025-12-12')).toBe('due 12 Dec, not measured yet');
    expect(horizonText({ ...h, dueDay: '2026-01-03' }, GB, '2025-12-30')).toBe('due 3 Jan 2026');
    expect(horizonNote(h, GB)).toBeNull();
  });

  it('fewer than 2 controls: the change without an interval; a fall to zero; nothing to estimate', () => {
    expect(horizonText(horizon({ realised: -0.25, controls: 1, entityChange: -0.3, directionHeld: true }), GB)).toBe(
      `${M}25 %, no interval (fewer than 2 comparable entities)`,
    );
    expect(horizonNote(horizon({ realised: -0.25, controls: 1, entityChange: -0.3 }), GB)).toBe(`own change ${M}30 %, 1 comparable`);
    const zero = horizon({ realised: -1, entityChange: -1, controls: 11, directionHeld: true });
    expect(horizonText(zero, GB)).toBe(`${M}100 % (fell to zero)`);
    expect(horizonNote(zero, GB)).toBe(`direction right; own change ${M}100 %, 11 comparable`);
    expect(horizonText(horizon({ realised: null, controls: 4 }), GB)).toBe('measured, no estimate (no figures to compare)');
    expect(horizonNote(horizon({ realised: null, controls: 0 }), GB)).toBe('no comparable entity');
    expect(horizonText(null, GB)).toBe('—');
  });

  it('the prediction, named by its metric, or nothing to measure', () => {
    const o: RecommendationOutcome = {
      id: 'x', recorded: true, metric: 'conversion_value', expectedChange: 0.25, horizonDays: 7, predictionSource: 'default',
      appliedDay: '2025-12-05', h7: null, h14: null,
    };
    expect(predictedText(o, GB)).toBe('value per day +25 %');
    expect(predictedNote(o)).toBe('the default for its type');
    expect(predictedText({ ...o, metric: 'spend', expectedChange: -1, predictionSource: 'evidence' }, GB)).toBe(`spend per day ${M}100 %`);
    expect(predictedText({ ...o, metric: 'cpa', expectedChange: -0.1 }, GB)).toBe(`CPA ${M}10 %`);
    const none = { ...o, recorded: false, metric: null, expectedChange: null, predictionSource: null };
    expect(predictedText(none, GB)).toBe('nothing to measure');
    expect(predictedNote(none)).toBe('no platform entity or no prediction');
  });
});

describe('the track record sentence', () => {
  it('counts, the median ratio as a whole percent, plural type names', () => {
    expect(trackRecordSentence({ type: 'budget_increase', measured: 17, held: 14, realisedOverPredicted: 0.7 }, GB)).toBe(
      'Budget increases: direction right 14 of 17, realised 70 % of predicted',
    );
    expect(trackRecordSentence({ type: 'creative', measured: 5, held: 2, realisedOverPredicted: -0.204 }, GB)).toBe(
      `Creative refreshes: direction right 2 of 5, realised ${M}20 % of predicted`,
    );
    expect(trackRecordSentence({ type: 'pause', measured: 1200, held: 1100, realisedOverPredicted: 1.004 }, GB)).toBe(
      'Pauses: direction right 1,100 of 1,200, realised 100 % of predicted',
    );
    expect(['budget_decrease', 'bid_adjustment', 'audience', 'timing', 'new_kind'].map(pluralTypeLabel)).toEqual([
      'Budget decreases', 'Bid adjustments', 'Audience changes', 'Timing changes', 'New kind recommendations',
    ]);
  });

  it('under 5 measured: too few to judge; a ratio that is missing, NaN or infinite is left out', () => {
    expect(trackRecordSentence({ type: 'pause', measured: 4, held: 4, realisedOverPredicted: 1 }, GB)).toBe(
      'Pauses: direction right 4 of 4, too few measured to judge (under 5)',
    );
    for (const r of [null, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(trackRecordSentence({ type: 'timing', measured: 6, held: 3, realisedOverPredicted: r }, GB)).toBe('Timing changes: direction right 3 of 6');
    }
  });
});

describe('what changed before a withdrawal (pure)', () => {
  it('a budget increase tested on ROAS: ROAS first with its line, unchanged figures left out', () => {
    const e = {
      test: 'value_upper', line: 3.6, target_roas: 3, spend_7d: 700, conversions_7d: 12, value_7d: 2940, roas_7d: 4.2, cpa_7d: 58.3333,
      withdrawal: { spend_7d: 700, conversions_7d: 9, value_7d: 2380, roas_7d: 3.4, cpa_7d: 77.7778, cpc_7d: 1.4, ctr_7d: 0.01, reason: 'No longer supported' },
    };
    expect(whatChanged('budget_increase', e, EUR).text).toBe('ROAS 4.20 → 3.40 (line 3.60), conversions 12 → 9, CPA €58.33 → €77.78, value €2,940 → €2,380');
  });

  it('a pause without conversions: CPA written as "no conversions"; in yen (JP¥ in en-GB), no minor unit', () => {
    const e = { pause_line: 12000, spend_7d: 84000, conversions_7d: 0, cpa_7d: null, withdrawal: { spend_7d: 70000, conversions_7d: 6, cpa_7d: 11666.6667 } };
    expect(whatChanged('pause', e, { currency: 'JPY', locale: 'en-GB' }).text).toBe(
      'CPA no conversions → JP¥11,667 (line JP¥12,000), conversions 0 → 6, spend JP¥84,000 → JP¥70,000',
    );
  });

  it('nothing comparable: the figures at withdrawal alone; none at all: said so', () => {
    const audience = { recent: { spend: 900, impressions: 60000 }, line: 18, withdrawal: { spend_7d: 640, conversions_7d: 8, cpa_7d: 80, reason: 'x' } };
    expect(whatChanged('audience', audience, EUR).text).toBe('At withdrawal: conversions 8, spend €640, CPA €80.00');
    expect(whatChanged('pause', { cpa_7d: 150, withdrawal: { reason: 'At approval the data no longer support it' } }, EUR)).toEqual({
      changes: [],
      text: 'No figures recorded at withdrawal',
    });
    expect(whatChanged('pause', { cpa_7d: 150 }, EUR).text).toBe('No figures recorded at withdrawal');
    // Figures that are not numbers are not written ("NaN" never reaches the page).
    expect(whatChanged('pause', { cpa_7d: 'NaN', spend_7d: 300, withdrawal: { cpa_7d: 'Infinity', spend_7d: 300 } }, EUR).text).toBe(
      'At withdrawal: spend €300',
    );
  });
});
